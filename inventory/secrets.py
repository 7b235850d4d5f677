"""References to secrets, resolved only when used and never printed.

A secret lives in an environment variable, a file, or a Kubernetes Secret; the site file holds only
the reference. Resolved values are pydantic ``SecretStr`` so repr, logs and JSON dumps show ``**********``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, SerializerFunctionWrapHandler, model_serializer, model_validator

from inventory.errors import InputError, MissingFact

MASK = "********"

# Reads a Kubernetes Secret key: (namespace, name, key) -> value. Set by the Kubernetes layer.
K8sSecretReader = Callable[[str, str, str], str]


class SecretRef(BaseModel):
    """Exactly one of ``env``, ``file`` or ``k8s`` (``namespace/name/key``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: Path | None = None
    k8s: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [k for k in ("env", "file", "k8s") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a secret reference needs exactly one of env, file, k8s")
        if self.k8s is not None and len(self.k8s.split("/")) != 3:
            raise ValueError("k8s secret reference must be 'namespace/name/key'")
        return self

    @model_serializer(mode="wrap")
    def _only_the_reference(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dump only the field that is set (``{"env": "X"}``): a reference, never a value."""
        return {k: v for k, v in handler(self).items() if v is not None}

    def __repr__(self) -> str:
        return f"SecretRef({self.describe()})"

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        if self.env is not None:
            return f"env:{self.env}"
        if self.file is not None:
            return f"file:{self.file}"
        return f"k8s:{self.k8s}"

    def resolve(self, k8s_reader: K8sSecretReader | None = None, *, field: str = "secret") -> SecretStr:
        """The secret's value; a missing one is an error naming the field and the reference."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise MissingFact(f"environment variable {self.env} is not set", path=field)
            return SecretStr(value.strip())
        if self.file is not None:
            path = self.file.expanduser()
            try:
                return SecretStr(path.read_text().strip())
            except OSError as exc:
                raise MissingFact(f"cannot read secret file {path}: {exc.strerror}", path=field) from None
        assert self.k8s is not None
        if k8s_reader is None:
            raise MissingFact(f"Kubernetes secret {self.k8s} needs a kubeconfig", path=field)
        namespace, name, key = self.k8s.split("/")
        return SecretStr(k8s_reader(namespace, name, key))


def is_wireguard_key(value: str) -> bool:
    """A WireGuard key is 32 bytes in standard base64 (44 characters ending in '=')."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return False
    return len(raw) == 32 and len(value) == 44


def check_wireguard_key(value: str, field: str) -> str:
    if not is_wireguard_key(value):
        raise InputError("not a WireGuard key (32 bytes, base64)", path=field)
    return value

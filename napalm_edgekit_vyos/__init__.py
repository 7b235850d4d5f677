"""NAPALM driver for VyOS shipped with edgekit; napalm finds it as platform ``edgekit_vyos``."""

from napalm_edgekit_vyos.driver import VyOSDriver

__all__ = ["VyOSDriver"]

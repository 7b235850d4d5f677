"""The lab tests' harness lives beside the lab (lab/harness.py), shared with the benchmarks."""

from lab.harness import REPO, LabRun

__all__ = ["REPO", "LabRun"]

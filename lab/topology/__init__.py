"""The namespace lab topology behind ``python -m lab`` (see lab/README.md).

Kept import-light: the small servers in ``lab.topology.servers`` start once per host and should not
pay for the orchestration modules.
"""

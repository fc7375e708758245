"""The dashboard's own errors."""

from __future__ import annotations


class DashboardError(Exception):
    """Base of every error the dashboard raises itself."""


class ConfigError(DashboardError):
    """A setting (environment variable, secrets.toml key or command-line option) that cannot be used."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")

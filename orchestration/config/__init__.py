"""Configuration resolved once: the runtime settings (environment) and the vertical presets (verticals.yml)."""

from orchestration.config.settings import DBT_PROJECT_DIR, DEFAULT_STRATEGIES, EXPECTATIONS_DIR, REPO_ROOT, Settings
from orchestration.config.verticals import DEFAULT_VERTICAL, VerticalPreset, preset_for, vertical_names

__all__ = [
    "DBT_PROJECT_DIR", "DEFAULT_STRATEGIES", "DEFAULT_VERTICAL", "EXPECTATIONS_DIR", "REPO_ROOT", "Settings",
    "VerticalPreset", "preset_for", "vertical_names",
]

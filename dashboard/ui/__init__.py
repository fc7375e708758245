"""The only part of the package that imports Streamlit: shared widgets, caching wrappers, i18n lookups."""

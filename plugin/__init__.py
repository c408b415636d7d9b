"""The plugin package of concurrent-infra (see __main__.py); a package so tools can import it."""

pytest_plugins = ["pgrecall.testing.plugin"]

"""A plug-in whose module fails to import: nasl warns, naming the distribution, and goes on."""
raise ImportError("this plug-in is broken on purpose")

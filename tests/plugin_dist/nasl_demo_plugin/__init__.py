"""An example nasl plug-in (tests/plugin_dist): each module registers one extension as it is imported."""

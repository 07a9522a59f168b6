from nasl.study.digits import default_space_path  # noqa: F401  (the bundled digits space)

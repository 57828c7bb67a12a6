"""Data pictures of particular models (or kinds of picture), one module each: every module
here is imported by `views.registry`, and registers its builders with `@data_view("kind")`."""

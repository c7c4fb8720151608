"""Tests of tierslieux.model (a package, so that its module names may repeat elsewhere)."""

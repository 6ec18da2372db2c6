"""Demo content: synthetic masters encoded to a DASH + HLS ladder, and generated artwork.

Public entry points::

    from service.content.build import build, BuildResult, read_build_json
    from service.content.spec import default_spec, quick_spec, BuildSpec
    from service.content.catalog_check import check_catalog, check_file

Nothing is imported here, so ``import service.content`` stays cheap.
"""

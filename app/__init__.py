"""Where the app is put together: the ``marquee`` command's dispatch (``cli``) and the
desktop app's wiring (``desktop``: service, engine factory, telemetry, UI). The only
package that may import every feature; nothing imports it but ``python -m marquee``.
"""

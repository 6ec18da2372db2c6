"""QA under throttled and faulty networks.

A scenario file (TOML, ``qa/scenarios/*.toml``) describes a network per OCA, a fault
timeline, the content, ABR variants and pass/fail thresholds. ``marquee qa run`` plays it
against the real engine and mpv (real HTTP through the embedded service's shaped OCAs) or,
with ``--sim``, in the trace-driven simulator, and writes a verdict and an HTML report.

Modules: ``tomllines`` (key -> line scanner), ``scenario`` (schema and validation, pure),
``network`` (traces and the per-OCA fault plan, pure), ``simrun`` (the simulator side, pure),
``metrics`` (QoE and verdict, pure), ``realrun`` (the real player: service, engine, mpv),
``report`` (HTML + PNG), ``cli``.
"""

"""QoE telemetry: versioned schema, durable queue, batched uploads, CMCD (see docs/telemetry.md)."""

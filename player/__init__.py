"""The playback engine: manifest model, OCA ranking and failover, fetcher, remux and mpv feed."""

"""Edge servers (OCAs): ranking from measurements (pure) and their persisted statistics."""

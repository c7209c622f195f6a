"""The calc step: tasks, task kinds and the shared runner."""

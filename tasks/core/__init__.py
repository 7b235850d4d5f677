"""What names no target: the program and its arguments, options, runtime, rollout, steps, report, live view, metrics."""

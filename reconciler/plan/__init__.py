"""Planning: the scoped reader and its worker pools, the planner, guards, the plan and its file."""

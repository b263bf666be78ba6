"""Apply: the executor, the write-ahead journal, the lease, settlement and the report."""

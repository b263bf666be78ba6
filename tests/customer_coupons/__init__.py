"""CustomerCoupons: desired entries, matching, the pure diff, guards, batching and evidence."""

"""Kind ``CustomerCoupons``: the partner coupons (cash vouchers) each resale customer should hold.

A document lists customers (by account name or ID, optionally a reseller's) and the coupons each
should hold: face value, source quota, validity, restrictions, memo. The plan issues the declared
coupons a customer does not hold (``create_partner_coupons``, REFERENCE §7.13) and, for entries
marked ``exclusive: true``, reclaims the usable coupons the entry does not declare
(``reclaim_partner_coupons``, §7.14: the whole remaining balance goes back to the coupon's
quota; what the customer already spent never comes back, and the plan shows it). A coupon cannot
be modified, so a changed coupon is a reclaim and an issue. Used, expired and reclaimed coupons
are history and never touched.

Modules, in pipeline order:

* :mod:`.desired`: the typed entries of a document, the checks that need no live data, and what
  the manifest checksum covers; ``schema.json`` is the document's JSON Schema;
* :mod:`.live`: what the plan reads, and how a coupon's quota is found (its issue record);
* :mod:`.spec`: what makes a live coupon a declared one;
* :mod:`.match`: which live coupon is which declared one, for one customer;
* :mod:`.plan`: the pure diff (problems at file:line:col, quota balances, notices), building each
  customer's change with :mod:`.change`;
* :mod:`.guards`: money per run and per customer, reclaims per run;
* :mod:`.batch`: the issue calls, one per coupon spec, up to 100 customers each;
* :mod:`.evidence`: what the records prove about an unknown outcome, and other writers.
"""

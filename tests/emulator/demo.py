"""Ids from the demo seed (reconciler/emulator/seeds/demo.yaml) used across the tests."""

from __future__ import annotations

# Customers of the distributor.
XINGHE = "ed0e5914c5e5fc0a8a8d3bcc812f2330"  # resale, manager zhang.wei, agency granted, ECS+disks
HUAXIA = "8b465a3f89f3c847bf335bcbb874b004"  # resale, li.na, agency; one expired ECS (status 5)
LINGYUN = "1e7b4d0f27f893eeb9e53607e347368e"  # resale, li.na, NO agency
HAINA = "b074af1606988abdddec41d09327c6a9"  # resale, chen.jie, agency; one frozen DCS (status 4)
RUIXIN = "d7f5b2700f8252c9add664552a99c790"  # resale, no manager, agency
MINGYUAN = "2ed176e54e0f4fe0526ca05a24585426"  # referral, no manager, no agency, no resources
CUSTOMER_COUNT = 25

# Resources of XINGHE.
XINGHE_WEB_01 = "8802e8c9-b42b-5e38-9852-d1b85b3b5dd4"  # ECS, expire_policy 3
XINGHE_WEB_01_DISK = "523ffe32-f589-543e-bfcb-4c04c66f41cd"  # attached system disk
XINGHE_RESOURCE_COUNT = 7

# Resellers.
TIANFU = "481e93b261dc952c7eebe1950ebb9fa6"
QINLING = "23162efcb2a584eee62cda18a8955593"
PENGCHENG = "91dfdf94a2eeb0d80e96a340e1e5e796"
RESELLER_CUSTOMERS = {TIANFU: 1, QINLING: 2, PENGCHENG: 1}

# Coupon quotas.
QUOTA_MAIN = "2025063010300118"  # 500000.00, balance 445000.00
QUOTA_SECOND = "2025093014152207"  # 200000.00, balance 185000.00
CHILD_TIANFU = "2025080209150301"  # 30000.00 / 30000.00, status 0
CHILD_QINLING = "2025081506220412"  # 25000.00 / 18500.00 (6500.00 spent), status 0
CHILD_RECLAIMED = "2025091103050977"  # status 6
CHILD_PENGCHENG = "2025110506401833"  # from QUOTA_SECOND
QUOTA_COUPONS = "2025053009301544"  # 100000.00, balance 90050.00: the customer coupons' quota

# Customer coupons (all from QUOTA_COUPONS) and cash.
COUPON_XINGHE = "CP20251201020000000001"  # usable, 5000.00 / 3200.00
COUPON_XINGHE_ECS = "CP20251201020000000002"  # usable, 1500.00, ECS only
COUPON_HUAXIA = "CP20251015090000000003"  # usable, 2000.00
COUPON_USED = "CP20250801080000000004"  # ruixin-media, status 3
COUPON_EXPIRED = "CP20250601100000000005"  # haina-data, status 4
COUPON_RECLAIMED = "CP20250715070000000006"  # lingyun-games, status 5
COUPON_RECORDS = 8
ADJUST_RECORDS = 8  # the partner's own ledger (plus one per reseller with a customer funded)
ALLOCATABLE = "800000.00"  # the partner's account_type 8 ...
DESIGNATED = "50000.00"  # ... of which ring-fenced
SHU_BROCADE = "bf71f3f9e4cc1dcc8dc09121aa1be99c"  # tianfu-cloud's resale customer, 3000.00
HUASHAN_TEA = "b8db2ba7da789af1d58c3a0b02bec420"  # qinling-digital's resale customer, 1200.00

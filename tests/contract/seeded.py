"""What the demo seed (``reconciler/emulator/seeds/demo.yaml``) holds, as the client's typed models.

Ids come from ``tests/emulator/demo.py``; the records below are written out field by field from
the seed so that a contract test compares whole models, Decimal amounts included.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from reconciler.bss import (
    CouponQuota,
    Customer,
    IndirectPartner,
    IssuedQuota,
    QuotaLimit,
    QuotaRecord,
    Resource,
)
from tests.emulator.demo import (
    CHILD_PENGCHENG,
    CHILD_QINLING,
    CHILD_RECLAIMED,
    CHILD_TIANFU,
    CUSTOMER_COUNT,
    HAINA,
    HUAXIA,
    LINGYUN,
    MINGYUAN,
    PENGCHENG,
    QINLING,
    QUOTA_COUPONS,
    QUOTA_MAIN,
    QUOTA_SECOND,
    RUIXIN,
    TIANFU,
    XINGHE,
    XINGHE_RESOURCE_COUNT,
    XINGHE_WEB_01,
    XINGHE_WEB_01_DISK,
)

__all__ = [
    "CHILD_PENGCHENG",
    "CHILD_QINLING",
    "CHILD_RECLAIMED",
    "CHILD_TIANFU",
    "CUSTOMER_COUNT",
    "HAINA",
    "HUAXIA",
    "LINGYUN",
    "MINGYUAN",
    "PENGCHENG",
    "QINLING",
    "QUOTA_COUPONS",
    "QUOTA_MAIN",
    "QUOTA_SECOND",
    "RUIXIN",
    "TIANFU",
    "XINGHE",
    "XINGHE_RESOURCE_COUNT",
    "XINGHE_WEB_01",
    "XINGHE_WEB_01_DISK",
]

NOT_OURS = "ffffffffffffffffffffffffffffffff"  # no customer, reseller or quota has this id
SHU_BROCADE = "bf71f3f9e4cc1dcc8dc09121aa1be99c"  # a customer of reseller tianfu-cloud, not ours

# jinqiao-logistics: agency granted; ECS jq-tms-app is NOT on auto-renew and has two disks.
JINQIAO = "2e84c4adef4eac7091036bae10449f8c"
JQ_TMS_APP = "757f0b82-8ce6-5ce9-aa3c-6a46bb571000"
JQ_TMS_APP_DISKS = ("f3428367-c91c-5d64-a163-3948b9fab504", "8bf0c5be-ac3d-5678-ac67-2425e097f032")
XINGHE_WEB_01_ATTACHED = (XINGHE_WEB_01_DISK, "238017bd-8ab6-550f-a8d8-98935aaa52c8")
XINGHE_ORDERS_DB = "174a542a-5a52-577c-8f6c-01fdad45211e"  # main, expire_policy 0, no attached
HUAXIA_OLD_LMS = "1cb1d44c-7ca5-5a32-8fa9-7c6670a1db44"  # expired (status 5), 3 attached
HAINA_FEATURE_CACHE = "a375ca08-08e3-5326-9a98-a8b8e72708bc"  # frozen (status 4)
LINGYUN_GAME_SERVER = "3c3b3cc7-15af-52d4-85a4-0d80476b425a"  # agency NOT granted
HAINA_TRAIN_01 = "951977e4-3a29-5c68-afd5-5f4392eaf17e"  # in use, auto-renew on

#: The distributor's own customers in the API's order (associated_on, then customer_id).
CUSTOMER_NAMES = (
    "xinghe-net", "jinqiao-logistics", "huaxia-edu", "lingyun-games", "qingshan-pharma",
    "dongfang-retail", "haina-data", "mingyuan-design", "taihe-finance", "yuntu-maps", "liu.yang",
    "fengchi-auto", "ruixin-media", "baicao-tcm", "zhiyuan-robotics", "lanting-hotels",
    "xiyu-agri", "kaiyuan-saas", "binhai-port", "zhao.min", "songhe-elderly", "guanghua-print",
    "tianyi-security", "yanhu-tourism", "sg-lionbridge",
)  # fmt: skip
assert len(CUSTOMER_NAMES) == CUSTOMER_COUNT

XINGHE_CUSTOMER = Customer(
    customer_id=XINGHE,
    account_name="xinghe-net",
    name="Hangzhou Xinghe Network Technology Co., Ltd.",
    association_type="2",
    label="ecommerce",
    account_manager="zhang.wei",
    telephone="13812345671",
    email="xinghe-net-it@example.com",
)
RUIXIN_CUSTOMER = Customer(  # no account manager: the API leaves account_managers out
    customer_id=RUIXIN,
    account_name="ruixin-media",
    name="Hangzhou Ruixin Media Co., Ltd.",
    association_type="2",
    label="media",
    account_manager=None,
    telephone="15158107739",
    email="ruixin-media-it@example.com",
)

TIANFU_PARTNER = IndirectPartner(
    indirect_partner_id=TIANFU,
    account_name="tianfu-cloud",
    name="Chengdu Tianfu Cloud Services Co., Ltd.",
    email="partner-ops@tianfu-cloud.example.com",
    mobile_phone="13550218876",
    associated_on="2023-06-15T02:00:00Z",
    account_manager_id="wang.fang",
    account_manager_name="Wang Fang",
)

XINGHE_WEB_01_RESOURCE = Resource(
    resource_id=XINGHE_WEB_01,
    customer_id=XINGHE,
    resource_name="xinghe-web-01",
    service_type_code="hws.service.type.ec2",
    resource_type_code="hws.resource.type.vm",
    region_code="cn-east-3",
    is_main_resource=True,
    parent_resource_id=None,
    status=2,
    expire_policy=3,
    expire_time="2027-03-14T15:59:59Z",
)
XINGHE_WEB_01_DISK_RESOURCE = Resource(  # attached: inherits region, status, expiry and policy
    resource_id=XINGHE_WEB_01_DISK,
    customer_id=XINGHE,
    resource_name="xinghe-web-01-system-disk",
    service_type_code="hws.service.type.ebs",
    resource_type_code="hws.resource.type.volume",
    region_code="cn-east-3",
    is_main_resource=False,
    parent_resource_id=XINGHE_WEB_01,
    status=2,
    expire_policy=3,
    expire_time="2027-03-14T15:59:59Z",
)

MAIN_QUOTA = CouponQuota(
    quota_id=QUOTA_MAIN,
    quota_type=0,
    quota_value=Decimal("500000.00"),
    balance=Decimal("445000.00"),
    quota_status=0,
    currency="CNY",
    effective_time="2025-07-01T00:00:00Z",
    expire_time="2030-06-30T15:59:59Z",
    limit_infos=(),
)
SECOND_QUOTA = CouponQuota(
    quota_id=QUOTA_SECOND,
    quota_type=0,
    quota_value=Decimal("200000.00"),
    balance=Decimal("185000.00"),
    quota_status=0,
    currency="CNY",
    effective_time="2025-10-01T00:00:00Z",
    expire_time="2030-09-30T15:59:59Z",
    limit_infos=(
        QuotaLimit("cloud_service_types", ("hws.service.type.ec2", "hws.service.type.ebs")),
    ),
)
COUPONS_QUOTA = CouponQuota(
    quota_id=QUOTA_COUPONS,
    quota_type=0,
    quota_value=Decimal("100000.00"),
    balance=Decimal("90050.00"),
    quota_status=0,
    currency="CNY",
    effective_time="2025-06-01T00:00:00Z",
    expire_time="2030-05-31T15:59:59Z",
    limit_infos=(),
)

QINLING_CHILD = IssuedQuota(  # 6500.00 of 25000.00 already spent by the reseller
    quota_id=CHILD_QINLING,
    parent_quota_id=QUOTA_MAIN,
    indirect_partner_id=QINLING,
    indirect_partner_account_name="qinling-digital",
    quota_value=Decimal("25000.00"),
    balance=Decimal("18500.00"),
    quota_status=0,
    create_time="2025-08-15T06:22:04Z",
    expire_time="2030-06-30T15:59:59Z",  # inherited from the parent quota
)

RECLAIM_RECORD = QuotaRecord(
    id="a07a540f8210e579ba62cc657dcdce88",
    operation_type="11",
    quota_id=CHILD_RECLAIMED,
    parent_quota_id=QUOTA_MAIN,
    amount=Decimal("5000.00"),
    operation_time=datetime(2025, 10, 20, 3, 12, 45, tzinfo=timezone.utc),
    result="0",
    indirect_partner_id=TIANFU,
    remark="unused, returned",
    operator="demo-distributor",
)

"""Apply asks IAM once per customer it acts for: the temporary credentials its plan's agency
check obtains are the ones its writes use. A plan, which writes nothing, keeps none of them
(tests/bss/test_iam.py, tests/plan/test_memory_release.py); that must not cost apply a second
IAM call per customer."""

from __future__ import annotations

from tests.cli_env import Env

IAM = "iam_create_temporary_access_key"
AS_CUSTOMER = {"auto_renewal_resources", "cancel_auto_renewal_resources"}


def test_apply_asks_iam_once_per_customer_and_writes_with_those_credentials(env: Env) -> None:
    folder = env.copy_examples()
    planned = env.run("plan", str(folder))
    assert planned.exit_code == 0, planned.output
    plan_log = env.emulator().call_log()
    checks = sum(c["operation"] == IAM for c in plan_log)
    assert checks >= 2  # the plan checked the agency of each customer it would act for

    applied = env.run("apply", str(folder), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    log = env.emulator().call_log()[len(plan_log) :]
    writers = {c["caller"]["account_id"] for c in log if c["operation"] in AS_CUSTOMER}
    assert len(writers) >= 2  # writes made as several customers
    assert all(c["caller"]["kind"] == "customer" for c in log if c["operation"] in AS_CUSTOMER)
    assert sum(c["operation"] == IAM for c in log) == checks  # none asked again for the writes

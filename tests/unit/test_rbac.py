from pathlib import Path

import yaml

from concurrent_infra.kube.rbac import KUBERNETES_VERBS, SYSTEM_RULES, USER_RULES, PolicyRule, grants

UPSTREAM = Path(__file__).parents[1] / "fixtures" / "upstream"


def upstream_rules(path: Path, cluster_role: str) -> list[PolicyRule]:
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and doc["kind"] == "ClusterRole" and doc["metadata"]["name"] == cluster_role:
            return [
                PolicyRule(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"]))
                for r in doc["rules"]
            ]
    raise AssertionError(f"{cluster_role} not in {path}")


def test_system_rules_grant_everything_seed_era_and_latest_grant_except_post() -> None:
    upstream = grants(
        upstream_rules(UPSTREAM / "seed-era" / "k8s-role-for-parallels.yaml", "k8s-role-for-parallels-lambda")
        + upstream_rules(UPSTREAM / "latest" / "k8s-role-for-parallels.yaml", "k8s-role-for-parallels-lambda")
    )
    without_post = {grant for grant in upstream if grant[2] != "post"}
    assert grants(SYSTEM_RULES) == without_post


def test_rules_use_only_real_verbs_without_duplicates_or_wildcards() -> None:
    for rule in SYSTEM_RULES + USER_RULES:
        assert set(rule.verbs) <= KUBERNETES_VERBS
        assert len(set(rule.verbs)) == len(rule.verbs)
        assert len(set(rule.resources)) == len(rule.resources)
        assert "*" not in rule.verbs + rule.resources + rule.api_groups


def test_user_rules_are_exactly_read_access_to_jobs_pods_logs_events() -> None:
    expected = {
        (group, resource, verb)
        for group, resource in [("batch", "jobs"), ("", "pods"), ("", "pods/log"), ("", "events")]
        for verb in ("get", "list", "watch")
    }
    assert grants(USER_RULES) == expected


def test_k8s_form_is_the_sdk_typed_dict() -> None:
    assert USER_RULES[0].as_k8s() == {
        "api_groups": ["batch"],
        "resources": ["jobs"],
        "verbs": ["get", "list", "watch"],
    }

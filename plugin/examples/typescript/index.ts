import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as concurrent from "@pulumi/concurrent-infra";

const config = new pulumi.Config();
const namespace = config.get("namespace") ?? "team-a";

// An explicit provider: every object goes to this cluster and context, whatever the ambient
// kubeconfig's current context is.
const cluster = new k8s.Provider("cluster", { context: config.require("kubeContext") });
const systemRole = new concurrent.SystemRole("systemRole", {}, { providers: [cluster] });
const team = new concurrent.ConcurrentNamespace("team", {
    namespace: namespace,
    labels: { team: namespace },
    // The system ClusterRole's name as an output: the namespace's system RoleBinding waits for it.
    systemRoleName: systemRole.clusterRoleName,
}, { providers: [cluster] });

export const namespaceName = team.namespaceName;
export const systemServiceAccountName = team.systemServiceAccountName;
export const userServiceAccountName = team.userServiceAccountName;

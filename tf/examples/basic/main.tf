# Installs DoraOperator from this repository's chart into the cluster of your kubeconfig,
# with a ServiceMonitor and the Grafana dashboard.
provider "kubernetes" {
  config_path = "~/.kube/config"
}

provider "helm" {
  kubernetes {
    config_path = "~/.kube/config"
  }
}

module "dora_operator" {
  source = "../.."

  chart                     = "${path.module}/../../../charts/dora-operator"
  cluster_name              = "production-eu"
  service_monitor_enabled   = true
  grafana_dashboard_enabled = true
}

output "metrics" {
  value = module.dora_operator.metrics_service
}

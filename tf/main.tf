resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0
  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }
}

resource "helm_release" "this" {
  name       = var.release_name
  namespace  = var.namespace
  chart      = var.chart
  version    = var.chart_version
  depends_on = [kubernetes_namespace_v1.this]

  values = [yamlencode(merge({
    image = {
      repository = var.image_repository
      tag        = var.image_tag
    }
    replicaCount     = var.replica_count
    watchNamespaces  = var.watch_namespaces
    clusterName      = var.cluster_name
    otlp             = { endpoint = var.otlp_endpoint }
    serviceMonitor   = { enabled = var.service_monitor_enabled }
    prometheusRule   = { enabled = var.prometheus_rule_enabled }
    grafanaDashboard = { enabled = var.grafana_dashboard_enabled }
  }, var.extra_values))]
}

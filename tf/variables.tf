variable "namespace" {
  description = "Namespace to install the operator in (created when create_namespace is true)."
  type        = string
  default     = "dora-operator"
}

variable "create_namespace" {
  description = "Create the namespace."
  type        = bool
  default     = true
}

variable "release_name" {
  description = "Helm release name."
  type        = string
  default     = "dora-operator"
}

variable "chart" {
  description = "Path or repository URL of the chart (the repository's charts/dora-operator by default)."
  type        = string
  default     = "../charts/dora-operator"
}

variable "chart_version" {
  description = "Chart version, when chart points to a repository."
  type        = string
  default     = null
}

variable "image_repository" {
  description = "Operator image repository (values: image.repository)."
  type        = string
  default     = "ghcr.io/dora-operator/dora-operator"
}

variable "image_tag" {
  description = "Operator image tag; empty uses the chart's appVersion (values: image.tag)."
  type        = string
  default     = ""
}

variable "replica_count" {
  description = "Operator replicas; one leads (values: replicaCount)."
  type        = number
  default     = 2
}

variable "watch_namespaces" {
  description = "Namespaces to watch; empty watches all (values: watchNamespaces)."
  type        = list(string)
  default     = []
}

variable "cluster_name" {
  description = "k8s.cluster.name on OTLP metrics (values: clusterName)."
  type        = string
  default     = ""
}

variable "otlp_endpoint" {
  description = "OTLP endpoint for metric push; empty turns it off (values: otlp.endpoint)."
  type        = string
  default     = ""
}

variable "service_monitor_enabled" {
  description = "Create a ServiceMonitor (values: serviceMonitor.enabled)."
  type        = bool
  default     = false
}

variable "prometheus_rule_enabled" {
  description = "Create a PrometheusRule with the recording rules (values: prometheusRule.enabled)."
  type        = bool
  default     = false
}

variable "grafana_dashboard_enabled" {
  description = "Create the Grafana dashboard ConfigMap (values: grafanaDashboard.enabled)."
  type        = bool
  default     = false
}

variable "extra_values" {
  description = "More chart values, as a map merged over the ones above."
  type        = any
  default     = {}
}

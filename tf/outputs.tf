output "namespace" {
  description = "Namespace the operator runs in."
  value       = helm_release.this.namespace
}

output "release_name" {
  description = "Helm release name."
  value       = helm_release.this.name
}

output "metrics_service" {
  description = "In-cluster address of /metrics and /api/v1/projects."
  value       = "http://${helm_release.this.name}.${helm_release.this.namespace}.svc:8080"
}

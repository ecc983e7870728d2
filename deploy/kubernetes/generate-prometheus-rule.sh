#!/usr/bin/env bash
# Writes prometheusrule.yaml from conf/prometheus-alerts.yaml, the one source
# of the alert rules (tests/it/deploy.rs checks the two agree).
# Usage: deploy/kubernetes/generate-prometheus-rule.sh > deploy/kubernetes/prometheusrule.yaml
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
alerts="$here/../../conf/prometheus-alerts.yaml"
cat <<'HEAD'
# Generated from conf/prometheus-alerts.yaml by
# deploy/kubernetes/generate-prometheus-rule.sh: edit that file, then run this.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: quirkgate
  labels:
    app.kubernetes.io/name: quirkgate
spec:
HEAD
# The rule groups, from `groups:` on, one level deeper under spec.
sed -n '/^groups:/,$p' "$alerts" | sed 's/^\(.\)/  \1/'

{{- define "slipway.fullname" -}}{{ .Release.Name }}-slipway{{- end -}}
{{- define "slipway.labels" -}}
app.kubernetes.io/name: slipway
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "slipway.secretName" -}}{{ default (include "slipway.fullname" .) .Values.existingSecret }}{{- end -}}

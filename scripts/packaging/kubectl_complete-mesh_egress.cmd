@echo off
rem Shell completion for `kubectl mesh-egress` (kubectl >= 1.26): see kubectl_complete-mesh_egress.
"%~dp0kubectl-mesh_egress.exe" __complete %*

; electron-builder NSIS include (nsis.include): registers the helper service after the files
; are installed and removes it before they are deleted. perMachine installs only: the
; service runs as LocalSystem. The script's comments explain the NSSM-free service host.
!macro customInstall
  DetailPrint "Registering the PortSentry Desktop helper service"
  nsExec::ExecToLog '"$SYSDIR\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -ExecutionPolicy Bypass -File "$INSTDIR\resources\helper\windows\install-service.ps1" -HelperDir "$INSTDIR\resources\helper"'
  Pop $0
  ${If} $0 != 0
    MessageBox MB_ICONEXCLAMATION "The PortSentry helper service could not be registered (exit $0). The app will run without protection until it is."
  ${EndIf}
!macroend

!macro customUnInstall
  nsExec::ExecToLog '"$SYSDIR\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -ExecutionPolicy Bypass -File "$INSTDIR\resources\helper\windows\install-service.ps1" -HelperDir "$INSTDIR\resources\helper" -Uninstall'
  Pop $0
!macroend

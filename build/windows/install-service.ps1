<#
.SYNOPSIS
  Registers (or removes) the PortSentry Desktop helper as the Windows service "PortSentryHelper".

.DESCRIPTION
  node.exe does not speak the Service Control Manager protocol, so pointing New-Service at it
  directly fails with error 1053. Instead of shipping NSSM or WinSW, this script compiles a
  40-line service host (PortSentryHelperService.exe) with the C# compiler that every Windows
  already has (.NET Framework 4.x, through Add-Type), next to the bundled Node. The host starts
  node.exe with portsentryd.js, stops it when the service stops, and exits with an error when
  Node dies by itself, so the recovery actions set below restart it.

  The control pipe. Node cannot set a named pipe's security descriptor, and the default one
  lets only SYSTEM and Administrators write, so a normal user's tray app could never send a
  request. The host therefore sets it once Node has created the pipe: it opens the pipe with
  WRITE_DAC (allowed to LocalSystem by the default descriptor) and replaces the DACL with
  SYSTEM and Administrators: full control; the local group "portsentry": read and write, but
  not FILE_CREATE_PIPE_INSTANCE, so no member can create a rival instance of the pipe and
  impersonate the helper. A pipe's security descriptor belongs to the pipe, not to one
  instance, so later instances have it too. This script creates the group and adds the user
  logged on at the console (membership counts from that user's next logon, as on Linux).
  NOT run on Windows in this project's tests: only compiled (mono's mcs) on Linux.

  Runs elevated (the NSIS installer calls it with -ExecutionPolicy Bypass). Idempotent: a
  second run replaces the service with the same settings. Config:
  %ProgramData%\PortSentry Desktop\portsentry.conf (created from the embedded defaults with
  BLOCK_BACKEND="windows-firewall" on first install, never overwritten).

.PARAMETER HelperDir
  The helper directory: contains node\node.exe and dist\privileged-helper\bin\portsentryd.js.
  Default: the directory above this script (resources\helper in the installed app).

.PARAMETER Uninstall
  Stops and deletes the service and the compiled host; keeps config, state and firewall rules
  (remove those with: node.exe portsentryd.js --remove-firewall -c <conf>).
#>
[CmdletBinding()]
param(
  [string]$HelperDir = (Split-Path -Parent $PSScriptRoot),
  [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'
$ServiceName = 'PortSentryHelper'
$DataDir = Join-Path $env:ProgramData 'PortSentry Desktop'
$Config = Join-Path $DataDir 'portsentry.conf'
$Node = Join-Path $HelperDir 'node\node.exe'
$Daemon = Join-Path $HelperDir 'dist\privileged-helper\bin\portsentryd.js'
$HostExe = Join-Path $HelperDir 'PortSentryHelperService.exe'
# Must equal shared/socket-paths.ts WINDOWS_PIPE and RPC_GROUP's default (a test checks both).
$PipeName = 'portsentry-desktop-helper'
$GroupName = 'portsentry'

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'install-service.ps1 must run elevated (as Administrator).'
}

function Remove-HelperService {
  $existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
  if ($null -ne $existing) {
    if ($existing.Status -ne 'Stopped') { Stop-Service -Name $ServiceName -Force }
    & sc.exe delete $ServiceName | Out-Null
    # The SCM deletes a service only when every handle is closed; wait for it.
    for ($i = 0; $i -lt 50 -and (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue); $i++) { Start-Sleep -Milliseconds 200 }
  }
  if (Test-Path $HostExe) { Remove-Item -Force $HostExe }
}

if ($Uninstall) {
  Remove-HelperService
  Write-Output "Removed service $ServiceName (config and firewall rules kept)."
  return
}

foreach ($path in @($Node, $Daemon)) {
  if (-not (Test-Path $path)) { throw "missing ${path}: is HelperDir (${HelperDir}) the helper directory?" }
}
Remove-HelperService

# The service host. Arguments are passed one by one with quoting for CreateProcess, never
# through cmd.exe.
$source = @'
using System;
using System.Diagnostics;
using System.IO.Pipes;
using System.Security.AccessControl;
using System.Security.Principal;
using System.ServiceProcess;
using System.Threading;

public sealed class PortSentryHelperService : ServiceBase {
  private Process child;
  private volatile bool stopping;
  private readonly string pipeName;
  private readonly string groupName;
  private readonly string[] argv;

  // args: PIPE_NAME GROUP_NAME NODE_EXE ARG...
  public PortSentryHelperService(string[] args) {
    pipeName = args[0];
    groupName = args[1];
    argv = new string[args.Length - 2];
    Array.Copy(args, 2, argv, 0, argv.Length);
    ServiceName = "PortSentryHelper"; CanStop = true; CanShutdown = true;
  }

  private static string Quote(string a) { return "\"" + a.Replace("\\\"", "\\\\\"").Replace("\"", "\\\"") + "\""; }

  protected override void OnStart(string[] ignored) {
    var info = new ProcessStartInfo(argv[0]) { UseShellExecute = false, CreateNoWindow = true };
    var rest = new string[argv.Length - 1];
    for (int i = 1; i < argv.Length; i++) rest[i - 1] = Quote(argv[i]);
    info.Arguments = string.Join(" ", rest);
    child = Process.Start(info);
    child.EnableRaisingEvents = true;
    // Node died on its own: fail the service so the SCM recovery actions restart it.
    child.Exited += (s, e) => { if (!stopping) { ExitCode = 1; Environment.Exit(1); } };
    new Thread(GrantPipeToGroup) { IsBackground = true }.Start();
  }

  /** SYSTEM and Administrators: full control; the group: read/write only. */
  public static PipeSecurity PipeSecurityFor(SecurityIdentifier group) {
    var security = new PipeSecurity();
    security.AddAccessRule(new PipeAccessRule(new SecurityIdentifier(WellKnownSidType.LocalSystemSid, null), PipeAccessRights.FullControl, AccessControlType.Allow));
    security.AddAccessRule(new PipeAccessRule(new SecurityIdentifier(WellKnownSidType.BuiltinAdministratorsSid, null), PipeAccessRights.FullControl, AccessControlType.Allow));
    security.AddAccessRule(new PipeAccessRule(group, PipeAccessRights.ReadWrite | PipeAccessRights.Synchronize, AccessControlType.Allow));
    return security;
  }

  // Waits (up to a minute) for Node to create the pipe, then replaces its DACL. Until then
  // only SYSTEM and Administrators can connect, which is safe, just not yet useful.
  private void GrantPipeToGroup() {
    SecurityIdentifier group;
    try { group = (SecurityIdentifier)new NTAccount(groupName).Translate(typeof(SecurityIdentifier)); }
    catch (Exception e) { EventLog.WriteEntry(ServiceName, "group " + groupName + " not found: " + e.Message, EventLogEntryType.Warning); return; }
    for (int attempt = 0; attempt < 240 && !stopping; attempt++) {
      try {
        using (var pipe = new NamedPipeClientStream(".", pipeName, PipeAccessRights.ReadData | PipeAccessRights.ReadPermissions | PipeAccessRights.ChangePermissions, PipeOptions.None, TokenImpersonationLevel.Anonymous, System.IO.HandleInheritability.None)) {
          pipe.Connect(250);
          pipe.SetAccessControl(PipeSecurityFor(group));
        }
        return;
      } catch (Exception) {
        Thread.Sleep(250);
      }
    }
    if (!stopping) EventLog.WriteEntry(ServiceName, "could not set the security of pipe " + pipeName + "; only administrators can use the helper", EventLogEntryType.Warning);
  }

  protected override void OnStop() { stopping = true; if (child != null && !child.HasExited) { child.Kill(); child.WaitForExit(10000); } }
  protected override void OnShutdown() { OnStop(); }

  public static void Main(string[] args) { ServiceBase.Run(new PortSentryHelperService(args)); }
}
'@
Add-Type -TypeDefinition $source -Language CSharp -OutputAssembly $HostExe -OutputType ConsoleApplication `
  -ReferencedAssemblies 'System.ServiceProcess', 'System.Core'

# The operators' group (RPC_GROUP's default), and the person at the console in it.
if (-not (Get-LocalGroup -Name $GroupName -ErrorAction SilentlyContinue)) {
  New-LocalGroup -Name $GroupName -Description 'PortSentry Desktop users: may use the helper through its pipe' | Out-Null
}
$consoleUser = (Get-CimInstance Win32_ComputerSystem).UserName
if ($consoleUser) { Add-LocalGroupMember -Group $GroupName -Member $consoleUser -ErrorAction SilentlyContinue }

New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
if (-not (Test-Path $Config)) {
  # Written by the compiled module itself, like the Linux package's conffile.
  $script = 'const { pathToFileURL } = await import("node:url"); const m = await import(pathToFileURL(process.argv[1]).href); process.stdout.write(m.EMBEDDED_CONFIG_TEXT.replace(/BLOCK_BACKEND="[^"]*"/, "BLOCK_BACKEND=\"windows-firewall\""));'
  $text = & $Node --input-type=module -e $script (Join-Path $HelperDir 'dist\privileged-helper\config\default-config.js')
  if ($LASTEXITCODE -ne 0) { throw 'could not write the default configuration' }
  Set-Content -Path $Config -Value $text -Encoding ascii
}

$binaryPath = ('"{0}" "{1}" "{2}" "{3}" "{4}" "-c" "{5}"' -f $HostExe, $PipeName, $GroupName, $Node, $Daemon, $Config)
New-Service -Name $ServiceName -BinaryPathName $binaryPath -DisplayName 'PortSentry Desktop helper' `
  -Description 'Detects port scans on tripwire ports and blocks the scanner in Windows Firewall.' `
  -StartupType Automatic | Out-Null
# Restart 5 s after each of the first three failures in a day.
& sc.exe failure $ServiceName reset= 86400 actions= restart/5000/restart/5000/restart/5000 | Out-Null
Start-Service -Name $ServiceName
Write-Output "Installed and started service $ServiceName ($binaryPath)."

#Requires -Version 5.1
<#
.SYNOPSIS
    PRE-02 to PRE-08: gather a Windows server's prerequisite evidence in one pass. Reads only.

.DESCRIPTION
    Returns the same top-level shape as library/preventcare_evidence.py (platform, os, network,
    hardware, remote_assistance, privilege, errors), each part holding the raw properties of the
    CIM class or cmdlet it comes from, under their own names. Enums are written as their numbers
    (as ConvertTo-Json does in Windows PowerShell 5.1), e.g. PrefixOrigin 3 = Dhcp, so that
    nothing depends on the server's display language. module_utils/preventcare_windows.py reads it, preventcare_prereq*.py judge it.
    Pending updates come from ansible.windows.win_updates (state: searched), not from here.

    NOT RUN HERE: no Windows host and no PowerShell exist where this project is built. The
    output format is pinned by tests/fixtures/windows/prereq/, built from Microsoft's
    documentation of each class and cmdlet (see each fixture's _source or .source.md).

.NOTES
    ansible.windows.win_powershell, with:
      path: scripts/windows/prereq_evidence.ps1
      depth: 5
    SupportsShouldProcess lets it run in check mode: it changes nothing.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # Service names of the validated remote-assistance tools, from data/remote_assistance.yml
    # (a trailing * also matches a version or client suffix).
    [string[]]$RemoteServices = @()
)
$ErrorActionPreference = 'Stop'
$errors = [System.Collections.Generic.List[object]]::new()

# One broken source must not hide the others.
function Get-Part([string]$Name, [scriptblock]$Block) {
    try { & $Block }
    catch {
        # HResult: the locale-independent part of the message (0x80070005 = access denied).
        $errors.Add([ordered]@{
                section = $Name
                error   = $_.Exception.Message
                hresult = ('0x{0:X8}' -f $_.Exception.HResult)
            })
        $null
    }
}

$os = Get-Part 'os' {
    Get-CimInstance -ClassName Win32_OperatingSystem |
        Select-Object -Property @('Caption', 'Version', 'BuildNumber', 'ProductType', 'OSArchitecture',
            'OSLanguage', 'LastBootUpTime')
}

$network = Get-Part 'network' {
    [ordered]@{
        ip_addresses  = @(Get-NetIPAddress | ForEach-Object {
                [ordered]@{
                    InterfaceAlias = $_.InterfaceAlias
                    InterfaceIndex = $_.InterfaceIndex
                    IPAddress      = $_.IPAddress
                    AddressFamily  = [int]$_.AddressFamily
                    PrefixLength   = [int]$_.PrefixLength
                    PrefixOrigin   = [int]$_.PrefixOrigin
                    SuffixOrigin   = [int]$_.SuffixOrigin
                    AddressState   = [int]$_.AddressState
                }
            })
        ip_interfaces = @(Get-NetIPInterface | ForEach-Object {
                [ordered]@{
                    InterfaceAlias  = $_.InterfaceAlias
                    InterfaceIndex  = $_.InterfaceIndex
                    AddressFamily   = [int]$_.AddressFamily
                    Dhcp            = [int]$_.Dhcp
                    ConnectionState = [int]$_.ConnectionState
                }
            })
    }
}

$hardware = Get-Part 'hardware' {
    [ordered]@{
        computer_system = Get-CimInstance -ClassName Win32_ComputerSystem |
            Select-Object -Property @('Manufacturer', 'Model', 'NumberOfLogicalProcessors',
                'NumberOfProcessors', 'TotalPhysicalMemory', 'HypervisorPresent', 'Domain', 'PartOfDomain')
        logical_disks   = @(Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType = 3' |
                Select-Object -Property @('DeviceID', 'DriveType', 'FileSystem', 'Size', 'FreeSpace'))
        system_drive    = $env:SystemDrive
    }
}

$remote = Get-Part 'remote_assistance' {
    $names = @($RemoteServices | Where-Object { $_ })
    $found = @()
    if ($names.Count -gt 0) { $found = @(Get-Service -Name $names -ErrorAction SilentlyContinue) }
    $deny = (Get-ItemProperty -Path 'HKLM:\System\CurrentControlSet\Control\Terminal Server' `
            -Name fDenyTSConnections -ErrorAction SilentlyContinue).fDenyTSConnections
    [ordered]@{
        services = @($found | ForEach-Object {
                [ordered]@{ Name = $_.Name; Status = [string]$_.Status; StartType = [string]$_.StartType }
            })
        rdp      = [ordered]@{ fDenyTSConnections = $deny }
    }
}

$privilege = Get-Part 'privilege' {
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = [Security.Principal.WindowsPrincipal]::new($identity)
    [ordered]@{
        user                  = $identity.Name
        user_sid              = $identity.User.Value
        # Raw CSV: the controller reads the SID column, whatever the language of the headers.
        whoami_groups_csv     = (& whoami.exe /groups /fo csv) -join "`n"
        # WindowsIdentity.Groups leaves out deny-only groups: a filtered admin token lacks S-1-5-32-544.
        token_group_sids      = @($identity.Groups | ForEach-Object { $_.Value })
        is_administrator_role = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
    }
}

$result = [ordered]@{
    platform          = 'windows'
    # Invariant culture: a custom format's ':' is the culture's time separator otherwise.
    collected_at      = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
    os                = $os
    powershell        = [ordered]@{
        PSVersion = $PSVersionTable.PSVersion.ToString()
        PSEdition = [string]$PSVersionTable.PSEdition
    }
    network           = $network
    hardware          = $hardware
    remote_assistance = $remote
    privilege         = $privilege
    errors            = $errors
}
if ($Ansible) {
    $Ansible.Result = $result
    $Ansible.Changed = $false
}
else { $result | ConvertTo-Json -Depth 5 }

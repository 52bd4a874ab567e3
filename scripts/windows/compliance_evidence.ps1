#Requires -Version 5.1
<#
.SYNOPSIS
    VIS-03: gather a Windows server's compliance evidence in one pass. Reads only.

.DESCRIPTION
    Everything docs/compliance-facts.md asks of a Windows server, as raw codes, booleans, IDs
    and ISO-8601 UTC dates: never a display string that the judge would read (the titles and
    names kept here are shown to people, never compared). Each part is gathered on its own;
    a part that fails is null and adds {section, error, hresult} to `errors`.
    module_utils/preventcare_windows_compliance.py turns this into the compliance facts, and
    parses there what is text (the .prom files, the secedit [System Access] lines).

    Choices, with the documentation they follow (tests/fixtures/windows/compliance/README.md):
    - services: Get-Service, Status (ServiceControllerStatus 1 Stopped, 4 Running) and StartType
      (ServiceStartMode 2 Automatic) as numbers; ServiceType too, whose bit 0x80
      (SERVICE_USERSERVICE_INSTANCE, winnt.h) marks the per-logon copies of per-user services.
    - directory replication errors, on domain controllers (DomainRole 4 or 5) only: Directory
      Service log, event IDs 1311, 1388, 1865, 1925, 1988, 2042, 2087, 2088 ("Troubleshoot common
      Active Directory replication errors", KB 3108513, and KB 944351 for 1865), counted by ID.
    - boots: System log, provider EventLog, event 6005 ("The Event log service was started",
      written at every start of the system); LastBootUpTime gives the current one.
    - local administrators by the well-known SID S-1-5-32-544 (Get-LocalGroupMember; the WinNT
      ADSI provider when that cmdlet fails on an unresolvable member; Get-ADGroupMember on a DC).
    - password policy: Get-ADDefaultDomainPasswordPolicy on a DC, else the [System Access]
      lines of `secedit /export /mergedpolicy /areas SECURITYPOLICY` (INF keys, never localised).
    - pending updates: the same search and output as pending_updates.ps1 (category IDs); the
      history from IUpdateSearcher::QueryHistory, whose Date is UTC ([MS-UAMG] 3.32.4.4).
    - reboot required: ISystemInformation::RebootRequired and the Windows Update and Component
      Based Servicing registry keys; PendingFileRenameOperations is returned, not counted.

    NOT RUN HERE: no Windows host and no PowerShell exist where this project is built. The
    output format is pinned by tests/fixtures/windows/compliance/, built from Microsoft's
    documentation of each class, cmdlet and COM interface.

.NOTES
    ansible.windows.win_powershell (playbooks/tasks/compliance_windows.yml), with depth: 8, as
    SYSTEM (become runas), as pending_updates.ps1 is. SupportsShouldProcess: it changes nothing
    (secedit writes its export to a temporary file, deleted at once).
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # Services asked for by name (data/ and the contract decide which).
    [string[]]$Services = @(),
    # Products asked for, matched with -like against the uninstall keys' DisplayName.
    [string[]]$Packages = @(),
    # The PreventCare textfile folder that windows_exporter publishes.
    [string]$TextfileDir = 'C:\ProgramData\PreventCare\textfile',
    # Start of the period (the last visit), ISO-8601; default 183 days ago.
    [string]$Since = '',
    # The antivirus agent's services (Trend Micro: real-time scan, listener).
    [string[]]$AntivirusServices = @('ntrtscan', 'tmlisten'),
    # What the facts call the product whose services those are.
    [string]$AntivirusProduct = 'trend_micro',
    [bool]$UpdateSearchOnline = $true,
    [int]$HistoryCount = 100
)
$ErrorActionPreference = 'Stop'
$errors = [System.Collections.Generic.List[object]]::new()
$invariant = [Globalization.CultureInfo]::InvariantCulture
$directoryEventIds = @(1311, 1388, 1865, 1925, 1988, 2042, 2087, 2088)

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

# CIM dates are local time, WUA dates UTC (Kind Unspecified): both written as UTC.
function ConvertTo-IsoUtc($Value) {
    if ($null -eq $Value) { return $null }
    $date = [DateTime]$Value
    if ($date.Kind -eq [DateTimeKind]::Local) { $date = $date.ToUniversalTime() }
    $date.ToString('yyyy-MM-ddTHH:mm:ssZ', $invariant)
}

# EventLogReader with an XPath query: reads the IDs and times without rendering each
# localised message (Get-WinEvent would), and an empty result is no error.
function Get-EventRecord([string]$Log, [string]$Condition, [int]$Max) {
    $from = $sinceUtc.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $invariant)
    $xpath = "*[System[($Condition) and TimeCreated[@SystemTime>='$from']]]"
    $query = [Diagnostics.Eventing.Reader.EventLogQuery]::new($Log, [Diagnostics.Eventing.Reader.PathType]::LogName, $xpath)
    $reader = [Diagnostics.Eventing.Reader.EventLogReader]::new($query)
    $read = 0
    try {
        while (($read -lt $Max) -and ($null -ne ($record = $reader.ReadEvent()))) {
            [ordered]@{ Id = $record.Id; TimeCreated = $record.TimeCreated }
            $record.Dispose()
            $read++
        }
    }
    finally { $reader.Dispose() }
}

function Get-ErrorRecord($Record) {
    [ordered]@{ message = $Record.Exception.Message; hresult = ('0x{0:X8}' -f $Record.Exception.HResult) }
}

$sinceUtc = Get-Part 'since' {
    if ($Since) {
        [DateTimeOffset]::Parse($Since, $invariant, [Globalization.DateTimeStyles]::AssumeUniversal).UtcDateTime
    }
    else { [DateTime]::UtcNow.AddDays(-183) }
}

$system = Get-Part 'system' {
    $cs = Get-CimInstance -ClassName Win32_ComputerSystem
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    [ordered]@{
        DomainRole                = [int]$cs.DomainRole
        Domain                    = [string]$cs.Domain
        PartOfDomain              = [bool]$cs.PartOfDomain
        NumberOfLogicalProcessors = [int]$cs.NumberOfLogicalProcessors
        LastBootUpTime            = ConvertTo-IsoUtc $os.LastBootUpTime
        TotalVisibleMemorySize    = $os.TotalVisibleMemorySize
        FreePhysicalMemory        = $os.FreePhysicalMemory
    }
}
$isDc = ($null -ne $system) -and ($system.DomainRole -ge 4)

$allServices = Get-Part 'services' { , @(Get-Service -ErrorAction SilentlyContinue) }
function Select-Service([string[]]$Names) {
    @($allServices | Where-Object { $Names -contains $_.Name } | ForEach-Object {
            [ordered]@{ Name = $_.Name; Status = [int]$_.Status; StartType = [int]$_.StartType }
        })
}
# PowerShell names are case-insensitive: $Services is the parameter, hence $serviceState.
$serviceState = $null
if ($null -ne $allServices) {
    $serviceState = [ordered]@{
        names = @($Services)
        asked = Select-Service $Services
        auto  = @($allServices | Where-Object { [int]$_.StartType -eq 2 } | ForEach-Object {
                [ordered]@{ Name = $_.Name; ServiceType = [int]$_.ServiceType }
            })
    }
}

$productState = Get-Part 'packages' {
    $keys = @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
        'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*')
    $entries = @(Get-ItemProperty -Path $keys -ErrorAction SilentlyContinue | Where-Object { $_.DisplayName })
    [ordered]@{
        names = @($Packages)
        found = @(foreach ($pattern in $Packages) {
                foreach ($entry in $entries) {
                    if ($entry.DisplayName -like $pattern) {
                        [ordered]@{
                            pattern        = $pattern
                            DisplayName    = [string]$entry.DisplayName
                            DisplayVersion = [string]$entry.DisplayVersion
                            Publisher      = [string]$entry.Publisher
                        }
                    }
                }
            })
    }
}

# Raw text: the Prometheus exposition format is parsed on the controller.
$textfiles = Get-Part 'textfiles' {
    $exists = Test-Path -LiteralPath $TextfileDir -PathType Container
    $files = @()
    if ($exists) {
        $files = @(Get-ChildItem -LiteralPath $TextfileDir -Filter '*.prom' -File | ForEach-Object {
                $text = $null
                if ($_.Length -le 1048576) { $text = [IO.File]::ReadAllText($_.FullName) }
                [ordered]@{ name = $_.Name; size = $_.Length; text = $text }
            })
    }
    [ordered]@{ dir = $TextfileDir; exists = $exists; files = $files }
}

$directoryEvents = Get-Part 'directory_events' {
    if (-not $isDc) { return [ordered]@{ searched = $false; ids = $directoryEventIds; counts = @() } }
    if ($null -eq $sinceUtc) { throw 'no valid Since date' }
    $condition = ($directoryEventIds | ForEach-Object { "EventID=$_" }) -join ' or '
    $counts = @{}
    foreach ($hit in @(Get-EventRecord 'Directory Service' $condition 50000)) { $counts[$hit.Id] = 1 + [int]$counts[$hit.Id] }
    [ordered]@{
        searched   = $true
        ids        = $directoryEventIds
        max_events = 50000
        counts     = @($counts.Keys | Sort-Object | ForEach-Object { [ordered]@{ Id = [int]$_; Count = $counts[$_] } })
    }
}

$reboots = Get-Part 'reboots' {
    if ($null -eq $sinceUtc) { throw 'no valid Since date' }
    $found = @(Get-EventRecord 'System' "Provider[@Name='EventLog'] and EventID=6005" 5000)
    [ordered]@{ event_id = 6005; times = @($found | ForEach-Object { ConvertTo-IsoUtc $_.TimeCreated }) }
}

$admins = Get-Part 'admins' {
    if ($isDc) {
        return [ordered]@{
            source  = 'Get-ADGroupMember'
            members = @(Get-ADGroupMember -Identity 'S-1-5-32-544' | ForEach-Object {
                    $enabled = $null
                    if ($_.objectClass -eq 'user') { $enabled = [bool](Get-ADUser -Identity $_.SID).Enabled }
                    [ordered]@{ Name = $_.SamAccountName; SID = $_.SID.Value; ObjectClass = [string]$_.objectClass; PrincipalSource = $null; Enabled = $enabled }
                })
        }
    }
    # Enabled is known for local accounts only (a domain account's is the domain's).
    $local = @{}
    try { Get-LocalUser | ForEach-Object { $local[$_.SID.Value] = [bool]$_.Enabled } }
    catch { $local = @{} }
    try {
        $members = @(Get-LocalGroupMember -SID 'S-1-5-32-544' | ForEach-Object {
                [ordered]@{
                    Name            = $_.Name
                    SID             = $_.SID.Value
                    ObjectClass     = [string]$_.ObjectClass
                    # PrincipalSource: 0 Unknown, 1 Local, 2 ActiveDirectory, 3 AzureAD, 4 MicrosoftAccount.
                    PrincipalSource = [int]$_.PrincipalSource
                    Enabled         = $local[$_.SID.Value]
                }
            })
        return [ordered]@{ source = 'Get-LocalGroupMember'; members = $members }
    }
    catch {
        # The cmdlet fails on a member it cannot resolve (a deleted domain account); the
        # WinNT provider still lists it, by SID. The group's name is localised: found by SID.
        $fallback = Get-ErrorRecord $_
    }
    $sid = [Security.Principal.SecurityIdentifier]::new('S-1-5-32-544')
    $name = $sid.Translate([Security.Principal.NTAccount]).Value.Split('\')[-1]
    $group = [ADSI]('WinNT://{0}/{1},group' -f $env:COMPUTERNAME, $name)
    [ordered]@{
        source         = 'WinNT'
        fallback_error = $fallback
        members        = @($group.Invoke('Members') | ForEach-Object {
                $bytes = $_.GetType().InvokeMember('objectSid', 'GetProperty', $null, $_, $null)
                $memberSid = [Security.Principal.SecurityIdentifier]::new($bytes, 0).Value
                [ordered]@{
                    Name            = $_.GetType().InvokeMember('Name', 'GetProperty', $null, $_, $null)
                    SID             = $memberSid
                    ObjectClass     = $_.GetType().InvokeMember('Class', 'GetProperty', $null, $_, $null)
                    PrincipalSource = $null
                    Enabled         = $local[$memberSid]
                }
            })
    }
}

$passwordPolicy = Get-Part 'password_policy' {
    if ($isDc) {
        $policy = Get-ADDefaultDomainPasswordPolicy
        return [ordered]@{
            source             = 'Get-ADDefaultDomainPasswordPolicy'
            MinPasswordLength  = [int]$policy.MinPasswordLength
            MaxPasswordAgeDays = [double]$policy.MaxPasswordAge.TotalDays
        }
    }
    $file = Join-Path -Path $env:TEMP -ChildPath ('preventcare-secedit-{0}.inf' -f [guid]::NewGuid())
    try {
        $null = & secedit.exe /export /mergedpolicy /cfg $file /areas SECURITYPOLICY
        if ($LASTEXITCODE -ne 0) { throw ('secedit /export exited with code {0}' -f $LASTEXITCODE) }
        $lines = @(Get-Content -LiteralPath $file -Encoding Unicode)
    }
    finally { Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue }
    $inSection = $false
    [ordered]@{
        source        = 'secedit'
        system_access = @(foreach ($line in $lines) {
                if ($line -match '^\s*\[') { $inSection = $line -match '^\s*\[System Access\]' }
                elseif ($inSection -and $line.Trim()) { $line.Trim() }
            })
    }
}

$storage = Get-Part 'storage' {
    $ns = 'root/Microsoft/Windows/Storage'
    [ordered]@{
        virtual_disks  = @(Get-CimInstance -Namespace $ns -ClassName MSFT_VirtualDisk | ForEach-Object {
                [ordered]@{
                    FriendlyName          = $_.FriendlyName
                    ResiliencySettingName = $_.ResiliencySettingName
                    HealthStatus          = [int]$_.HealthStatus
                    OperationalStatus     = @($_.OperationalStatus | ForEach-Object { [int]$_ })
                }
            })
        physical_disks = @(Get-CimInstance -Namespace $ns -ClassName MSFT_PhysicalDisk | ForEach-Object {
                [ordered]@{
                    FriendlyName      = $_.FriendlyName
                    SerialNumber      = $_.SerialNumber
                    HealthStatus      = [int]$_.HealthStatus
                    OperationalStatus = @($_.OperationalStatus | ForEach-Object { [int]$_ })
                }
            })
    }
}

$teaming = Get-Part 'teaming' {
    $ns = 'root/StandardCimv2'
    [ordered]@{
        teams   = @(Get-CimInstance -Namespace $ns -ClassName MSFT_NetLbfoTeam | ForEach-Object {
                [ordered]@{ Name = $_.Name; Status = [int]$_.Status; TeamingMode = [int]$_.TeamingMode }
            })
        members = @(Get-CimInstance -Namespace $ns -ClassName MSFT_NetLbfoTeamMember | ForEach-Object {
                [ordered]@{
                    Name               = $_.Name
                    Team               = $_.Team
                    AdministrativeMode = [int]$_.AdministrativeMode
                    OperationalMode    = [int]$_.OperationalMode
                    FailureReason      = [int]$_.FailureReason
                }
            })
    }
}

# A UPS on USB shows as a battery (HID power device); a server has no other battery.
$ups = Get-Part 'ups' {
    [ordered]@{
        batteries = @(Get-CimInstance -ClassName Win32_Battery | ForEach-Object {
                [ordered]@{ DeviceID = $_.DeviceID; Name = $_.Name; BatteryStatus = [int]$_.BatteryStatus }
            })
    }
}

$filesystems = Get-Part 'filesystems' {
    [ordered]@{
        logical_disks = @(Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType = 3' | ForEach-Object {
                [ordered]@{ DeviceID = $_.DeviceID; Size = $_.Size; FreeSpace = $_.FreeSpace }
            })
    }
}

# The same search and output as pending_updates.ps1, read by the same controller code.
$pending = Get-Part 'pending_updates' {
    $criteria = "IsInstalled=0 and IsHidden=0 and Type='Software'"
    $out = [ordered]@{ criteria = $criteria; updates = @(); error = $null }
    try {
        $searcher = (New-Object -ComObject 'Microsoft.Update.Session').CreateUpdateSearcher()
        $searcher.Online = $UpdateSearchOnline
        $found = $searcher.Search($criteria)
        $out.result_code = [int]$found.ResultCode
        $out.updates = @(foreach ($update in $found.Updates) {
                [ordered]@{
                    id            = [string]$update.Identity.UpdateID
                    title         = [string]$update.Title
                    kb            = @($update.KBArticleIDs | ForEach-Object { [string]$_ })
                    msrc_severity = [string]$update.MsrcSeverity
                    browse_only   = [bool]$update.BrowseOnly
                    categories    = @(foreach ($category in $update.Categories) {
                            [ordered]@{ id = [string]$category.CategoryID; name = [string]$category.Name; type = [string]$category.Type }
                        })
                }
            })
    }
    catch { $out.error = Get-ErrorRecord $_ }
    $out
}

$history = Get-Part 'update_history' {
    $searcher = (New-Object -ComObject 'Microsoft.Update.Session').CreateUpdateSearcher()
    $total = $searcher.GetTotalHistoryCount()
    $entries = @()
    if ($total -gt 0) {
        $entries = @(foreach ($entry in $searcher.QueryHistory(0, [Math]::Min($total, $HistoryCount))) {
                [ordered]@{
                    date        = ConvertTo-IsoUtc ([DateTime]::SpecifyKind($entry.Date, [DateTimeKind]::Utc))
                    # UpdateOperation 1 installation, 2 uninstallation; OperationResultCode 2 succeeded.
                    operation   = [int]$entry.Operation
                    result_code = [int]$entry.ResultCode
                    hresult     = ('0x{0:X8}' -f $entry.HResult)
                    title       = [string]$entry.Title
                    categories  = @(foreach ($category in $entry.Categories) { [string]$category.CategoryID })
                }
            })
    }
    [ordered]@{ total = $total; entries = $entries }
}

$reboot = Get-Part 'reboot_required' {
    $sessionManager = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -ErrorAction SilentlyContinue
    [ordered]@{
        system_information  = [bool](New-Object -ComObject 'Microsoft.Update.SystemInfo').RebootRequired
        windows_update_key  = Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
        cbs_key             = Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
        pending_file_rename = $null -ne $sessionManager.PendingFileRenameOperations
    }
}

$antivirus = Get-Part 'antivirus' {
    $defender = $null
    $defenderError = $null
    try {
        $status = Get-MpComputerStatus
        $defender = [ordered]@{
            AMServiceEnabled              = [bool]$status.AMServiceEnabled
            AntivirusEnabled              = [bool]$status.AntivirusEnabled
            RealTimeProtectionEnabled     = [bool]$status.RealTimeProtectionEnabled
            AMRunningMode                 = $status.AMRunningMode
            AntivirusSignatureAge         = $status.AntivirusSignatureAge
            AntivirusSignatureLastUpdated = ConvertTo-IsoUtc $status.AntivirusSignatureLastUpdated
        }
    }
    catch { $defenderError = Get-ErrorRecord $_ }
    $agent = @()
    if ($null -ne $allServices) { $agent = Select-Service $AntivirusServices }
    [ordered]@{
        product        = $AntivirusProduct
        names          = @($AntivirusServices)
        services       = $agent
        defender       = $defender
        defender_error = $defenderError
    }
}

$shares = Get-Part 'shares' {
    [ordered]@{ names = @(Get-SmbShare | Where-Object { -not $_.Special } | ForEach-Object { [string]$_.Name }) }
}

$addresses = Get-Part 'addresses' {
    [ordered]@{ ip = @(Get-NetIPAddress | ForEach-Object { [string]$_.IPAddress }) }
}

$result = [ordered]@{
    platform         = 'windows'
    script           = 'compliance_evidence'
    # Invariant culture: a custom format's ':' is the culture's time separator otherwise.
    collected_at     = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ', $invariant)
    since            = ConvertTo-IsoUtc $sinceUtc
    system           = $system
    services         = $serviceState
    packages         = $productState
    textfiles        = $textfiles
    directory_events = $directoryEvents
    admins           = $admins
    password_policy  = $passwordPolicy
    storage          = $storage
    teaming          = $teaming
    ups              = $ups
    reboots          = $reboots
    filesystems      = $filesystems
    pending_updates  = $pending
    update_history   = $history
    reboot_required  = $reboot
    antivirus        = $antivirus
    shares           = $shares
    addresses        = $addresses
    errors           = $errors
}
if ($Ansible) {
    $Ansible.Result = $result
    $Ansible.Changed = $false
}
else { $result | ConvertTo-Json -Depth 8 }

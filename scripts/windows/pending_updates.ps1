#Requires -Version 5.1
<#
.SYNOPSIS
    PRE-05: list the updates this server still needs, with their category IDs. Reads only.

.DESCRIPTION
    Why not ansible.windows.win_updates: its category_names filter compares the category
    *names* that Windows Update returns, and those are in the server's display language
    ("Mises a jour de la securite" on a French server), so `category_names: SecurityUpdates`
    filters every update out on a French server; its `updates` return value carries those
    names only, never a category ID (win_updates.ps1 in ansible.windows 3.3.0:
    `categories = @($Update.Categories | ForEach-Object { $_.Name })`).
    This script searches every category and returns each category's CategoryID (a GUID, the
    same in every language); module_utils/preventcare_windows.py classifies on the
    controller: Security Updates 0FA1201D-4330-4FA8-8AE9-B877473B6441, Critical Updates
    E6CF1350-C01B-414D-A61F-263D14D133B4 ("WSUS Classification GUIDs", Microsoft Learn,
    previous-versions/windows/desktop/ff357803).

    Search criteria and objects: IUpdateSearcher::Search, ISearchResult, IUpdate
    (KBArticleIDs, MsrcSeverity, BrowseOnly), ICategory (CategoryID, Name, Type) of the
    Windows Update Agent API. IUpdateSearcher is among the interfaces available to a remote
    administrator ("Using WUA From a Remote Computer"); the playbook still runs this script
    as SYSTEM (become runas), as win_updates' notes advise when a remote token is refused.

    NOT RUN HERE: no Windows host and no PowerShell exist where this project is built. The
    output format is pinned by tests/fixtures/windows/prereq/updates_*.json.

.NOTES
    ansible.windows.win_powershell, with depth: 5. SupportsShouldProcess: it changes nothing.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # Software updates not installed and not hidden, every category.
    [string]$Criteria = "IsInstalled=0 and IsHidden=0 and Type='Software'"
)
$ErrorActionPreference = 'Stop'

$result = [ordered]@{
    criteria = $Criteria
    updates  = @()
    error    = $null
}
try {
    $session = New-Object -ComObject 'Microsoft.Update.Session'
    $searcher = $session.CreateUpdateSearcher()
    $found = $searcher.Search($Criteria)
    $result.result_code = [int]$found.ResultCode
    $list = New-Object System.Collections.Generic.List[object]
    foreach ($update in $found.Updates) {
        $categories = New-Object System.Collections.Generic.List[object]
        foreach ($category in $update.Categories) {
            $categories.Add([ordered]@{
                    id   = [string]$category.CategoryID
                    name = [string]$category.Name
                    type = [string]$category.Type
                })
        }
        $list.Add([ordered]@{
                id            = [string]$update.Identity.UpdateID
                title         = [string]$update.Title
                kb            = @($update.KBArticleIDs | ForEach-Object { [string]$_ })
                msrc_severity = [string]$update.MsrcSeverity
                browse_only   = [bool]$update.BrowseOnly
                categories    = $categories.ToArray()
            })
    }
    $result.updates = $list.ToArray()
}
catch {
    # HResult is the locale-independent part (e.g. 0x8024402C: the update server cannot be reached).
    $result.error = [ordered]@{
        message = $_.Exception.Message
        hresult = ('0x{0:X8}' -f $_.Exception.HResult)
    }
}

if ($Ansible) {
    $Ansible.Result = $result
    $Ansible.Changed = $false
}
else { $result | ConvertTo-Json -Depth 5 }

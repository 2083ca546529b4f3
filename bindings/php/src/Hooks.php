<?php

declare(strict_types=1);

namespace Scimkit;

/**
 * What the application hears of every change, and its say before it (the `events` interface of wit/scim.wit).
 * Every method does nothing by default: extend this class and override what you need.
 *
 * A CHANGE is ['resourceType' => …, 'id' => … ('' before a create is stored), 'operations' => list of
 * 'create'|'replace'|'patch'|'delete'|'members-added'|'members-removed'|'activated'|'deactivated',
 * 'paths' => changed attribute paths, 'before' => SCIM resource|null, 'after' => SCIM resource|null,
 * 'membersAdded' => ids, 'membersRemoved' => ids, 'membersCleared' => bool]. Images are in SCIM form (not
 * rows) and never hold a password.
 */
class Hooks
{
    /**
     * Before every write. @return array|null null allows it; self::adjust() or self::refuse() otherwise
     */
    public function check(array $change): ?array
    {
        return null;
    }

    /** After every successful write, with the resource's new version ('' after a delete). */
    public function changed(array $change, string $version): void
    {
    }

    /** Write this SCIM resource instead (validated as a PUT body; members and the password are kept). */
    public static function adjust(array $resource): array
    {
        return ['adjust' => $resource];
    }

    /** Refuse the write: the client gets this RFC 7644 error. */
    public static function refuse(int $status, string $detail, ?string $scimType = null): array
    {
        return ['refuse' => ['status' => $status, 'scimType' => $scimType, 'detail' => $detail]];
    }
}

<?php

declare(strict_types=1);

namespace Scimkit;

/**
 * What an application implements: rows in, rows out, in its own column names (the configuration's
 * `mapping`). No SCIM parsing, filtering or PATCH logic belongs here; the engine does all of it.
 *
 * A RESOURCE is ['id' => …, 'version' => …, 'data' => row array, 'members' => list|null]; a member is
 * ['value' => id, 'type' => 'User'|'Group'|null, 'display' => string|null]. Shapes and contracts are
 * those of bindings/native/include/scimkit.h. Throw StorageError for the expected failures.
 */
interface Storage
{
    /** @return array|null the RESOURCE, or null when it does not exist */
    public function get(string $type, string $id, bool $withMembers): ?array;

    /**
     * @param array $unique list of ['attribute' => column, 'value' => normalised value] to keep unique
     * @return array the RESOURCE with its new id ('members' => null)
     */
    public function create(string $type, array $row, array $unique, array $members): array;

    /**
     * @param array $change resourceType, id, data (row|null), unique, clearMembers, removeMembers,
     *                      addMembers, ifVersion
     * @return array the RESOURCE ('members' => null)
     */
    public function update(array $change): array;

    public function delete(string $type, string $id, ?string $ifVersion): void;

    /**
     * The filter's paths are your column names, except the reserved `members.value`: `members.value eq "id"`
     * asks for the groups having that member (how the engine finds a User's groups). Answer it from your
     * membership table (SqlFilter does, given it), or treat it as no constraint and answer `applied: nothing`.
     *
     * @param array $query resourceType, filter (tree, see SqlFilter), sort, startIndex, count, withoutMembers
     * @return array ['items' => RESOURCE list, 'total' => int|null, 'applied' => 'everything'|'filter-only'|'nothing']
     */
    public function search(array $query): array;

    /** @return array one page of members */
    public function members(string $type, string $id, int $startIndex, int $count): array;
}

<?php

declare(strict_types=1);

namespace Scimkit\Tests;

use Scimkit\Storage;
use Scimkit\StorageError;

/**
 * An application's storage that can nest groups: rows in memory, users and groups numbered apart (`u1`, `g1`),
 * and a membership list per group that holds users and groups alike. It filters nothing (`applied: nothing`),
 * so the engine answers every filter itself, and walks nested groups with its own `members.value` searches.
 */
final class NestingStorage implements Storage
{
    /** @var array<string, array<string, array{row: array, version: int, unique: array}>> type => id => row */
    private array $rows = ['User' => [], 'Group' => []];

    /** @var array<string, array<string, array>> group id => member id => member */
    private array $memberships = [];

    private int $next = 0;

    public function get(string $type, string $id, bool $withMembers): ?array
    {
        return isset($this->rows[$type][$id]) ? $this->resource($type, $id, $withMembers) : null;
    }

    public function create(string $type, array $row, array $unique, array $members): array
    {
        $this->checkUnique($type, null, $unique);
        $id = ($type === 'User' ? 'u' : 'g') . ++$this->next;
        $this->rows[$type][$id] = ['row' => $row, 'version' => 1, 'unique' => $unique];
        if ($type === 'Group') {
            $this->memberships[$id] = [];
            $this->add($id, $members);
        }
        return $this->resource($type, $id, false);
    }

    public function update(array $c): array
    {
        [$type, $id] = [$c['resourceType'], (string) $c['id']];
        $current = $this->rows[$type][$id] ?? throw StorageError::notFound();
        if ($c['ifVersion'] !== null && $c['ifVersion'] !== (string) $current['version']) {
            throw StorageError::preconditionFailed();
        }
        if ($c['data'] !== null) {
            $this->checkUnique($type, $id, $c['unique']);
            $current['row'] = $c['data'];
            $current['unique'] = $c['unique'];
        }
        $current['version']++;
        $this->rows[$type][$id] = $current;
        if ($type === 'Group') {
            if ($c['clearMembers']) {
                $this->memberships[$id] = [];
            }
            foreach ($c['removeMembers'] as $memberId) {
                unset($this->memberships[$id][$memberId]);
            }
            $this->add($id, $c['addMembers']);
        }
        return $this->resource($type, $id, false);
    }

    public function delete(string $type, string $id, ?string $ifVersion): void
    {
        $current = $this->rows[$type][$id] ?? throw StorageError::notFound();
        if ($ifVersion !== null && $ifVersion !== (string) $current['version']) {
            throw StorageError::preconditionFailed();
        }
        unset($this->rows[$type][$id], $this->memberships[$id]);
        // The groups that lose a member change too.
        foreach ($this->memberships as $groupId => $members) {
            if (isset($members[$id])) {
                unset($this->memberships[$groupId][$id]);
                $this->rows['Group'][$groupId]['version']++;
            }
        }
    }

    public function search(array $query): array
    {
        $type = $query['resourceType'];
        $items = [];
        foreach (array_keys($this->rows[$type] ?? []) as $id) {
            $items[] = $this->resource($type, (string) $id, !$query['withoutMembers']);
        }
        return ['items' => $items, 'total' => null, 'applied' => 'nothing'];
    }

    public function members(string $type, string $id, int $startIndex, int $count): array
    {
        if (!isset($this->rows[$type][$id])) {
            throw StorageError::notFound();
        }
        return array_slice(array_values($this->memberships[$id] ?? []), $startIndex - 1, $count);
    }

    /** The ids of the members of group $id, as kept. */
    public function memberIds(string $id): array
    {
        return array_keys($this->memberships[$id] ?? []);
    }

    private function resource(string $type, string $id, bool $withMembers): array
    {
        $members = $withMembers && $type === 'Group' ? array_values($this->memberships[$id]) : null;
        $r = $this->rows[$type][$id];
        return ['id' => $id, 'version' => (string) $r['version'], 'data' => $r['row'], 'members' => $members];
    }

    /** Users and groups alike; adding a member again updates it. */
    private function add(string $groupId, array $members): void
    {
        foreach ($members as $m) {
            $this->memberships[$groupId][(string) $m['value']] = $m;
        }
    }

    private function checkUnique(string $type, ?string $self, array $unique): void
    {
        foreach ($this->rows[$type] as $id => $r) {
            foreach ($unique as $key) {
                if ((string) $id !== $self && in_array($key, $r['unique'], true)) {
                    throw StorageError::conflict($key['attribute']);
                }
            }
        }
    }
}

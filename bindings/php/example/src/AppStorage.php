<?php

declare(strict_types=1);

namespace Scimkit\Example;

use PDO;
use PDOException;
use Scimkit\SqlFilter;
use Scimkit\Storage;
use Scimkit\StorageError;

/**
 * The example application's storage: reads and writes its own rows (user, usergroup, usergroup_rel_user)
 * in its own column names. It knows nothing of SCIM beyond the Storage contract.
 */
final class AppStorage implements Storage
{
    /** Per resource type: table, writable columns, and the unique column kept in canonical form. */
    private const TYPES = [
        'User' => [
            'table' => 'user',
            'columns' => ['username', 'firstname', 'lastname', 'email', 'phone', 'official_code', 'language',
                'active', 'created_at', 'updated_at', 'scim_extra'],
            'unique' => ['username' => 'username_canonical'],
        ],
        'Group' => [
            'table' => 'usergroup',
            'columns' => ['name', 'external_id', 'created_at', 'updated_at', 'scim_extra'],
            'unique' => ['name' => 'name_canonical'],
            // Filters on members are answered from the membership table (see SqlFilter).
            'members' => ['table' => 'usergroup_rel_user', 'group' => 'usergroup_id', 'member' => 'user_id', 'id' => 'id'],
        ],
    ];

    public function __construct(private readonly PDO $db)
    {
        $db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
        $db->exec('PRAGMA foreign_keys = ON');
    }

    /** Creates the tables when missing. */
    public function install(): void
    {
        $this->db->exec((string) file_get_contents(dirname(__DIR__) . '/schema.sql'));
    }

    private static function type(string $type): array
    {
        return self::TYPES[$type] ?? throw StorageError::unsupported();
    }

    public function get(string $type, string $id, bool $withMembers): ?array
    {
        $t = self::type($type);
        $row = $this->row($t['table'], $id);
        if ($row === null) {
            return null;
        }
        return $this->resource($t, $row, $withMembers && $type === 'Group' ? $this->groupMembers($id) : null);
    }

    public function create(string $type, array $row, array $unique, array $members): array
    {
        $t = self::type($type);
        $values = $this->values($t, $row, $unique) + ['revision' => 1];
        $values['active'] ??= $type === 'User' ? 1 : null;
        if ($type !== 'User') {
            unset($values['active']);
        }
        return $this->write(function () use ($t, $type, $values, $members) {
            $cols = array_keys($values);
            $sql = sprintf('INSERT INTO %s (%s) VALUES (%s)', $t['table'], implode(', ', $cols), implode(', ', array_fill(0, count($cols), '?')));
            $this->db->prepare($sql)->execute(array_values($values));
            $id = $this->db->lastInsertId();
            if ($type === 'Group') {
                $this->addMembers($id, $members);
            }
            return $this->resource($t, $this->row($t['table'], $id), null);
        }, $t);
    }

    public function update(array $c): array
    {
        $t = self::type($c['resourceType']);
        return $this->write(function () use ($t, $c) {
            $id = (string) $c['id'];
            $current = $this->row($t['table'], $id) ?? throw StorageError::notFound();
            if ($c['ifVersion'] !== null && $c['ifVersion'] !== (string) $current['revision']) {
                throw StorageError::preconditionFailed();
            }
            $values = $c['data'] === null ? [] : $this->values($t, $c['data'], $c['unique']);
            $values['revision'] = $current['revision'] + 1;
            $set = implode(', ', array_map(fn ($col) => "$col = ?", array_keys($values)));
            $this->db->prepare("UPDATE {$t['table']} SET $set WHERE id = ?")->execute([...array_values($values), $id]);
            if ($c['resourceType'] === 'Group') {
                if ($c['clearMembers']) {
                    $this->db->prepare('DELETE FROM usergroup_rel_user WHERE usergroup_id = ?')->execute([$id]);
                }
                $remove = $this->db->prepare('DELETE FROM usergroup_rel_user WHERE usergroup_id = ? AND user_id = ?');
                foreach ($c['removeMembers'] as $userId) {
                    $remove->execute([$id, $userId]);
                }
                $this->addMembers($id, $c['addMembers']);
            }
            return $this->resource($t, $this->row($t['table'], $id), null);
        }, $t);
    }

    public function delete(string $type, string $id, ?string $ifVersion): void
    {
        $t = self::type($type);
        $this->write(function () use ($t, $type, $id, $ifVersion) {
            $current = $this->row($t['table'], $id) ?? throw StorageError::notFound();
            if ($ifVersion !== null && $ifVersion !== (string) $current['revision']) {
                throw StorageError::preconditionFailed();
            }
            if ($type === 'User') {
                // The groups that lose a member change too.
                $this->db->prepare('UPDATE usergroup SET revision = revision + 1 WHERE id IN
                    (SELECT usergroup_id FROM usergroup_rel_user WHERE user_id = ?)')->execute([$id]);
            }
            $this->db->prepare("DELETE FROM {$t['table']} WHERE id = ?")->execute([$id]);
        }, $t);
    }

    public function search(array $q): array
    {
        $t = self::type($q['resourceType']);
        $columns = [];
        foreach (['id', ...$t['columns']] as $col) {
            $columns[$col] = $col;
        }
        $f = SqlFilter::where($q['filter'], $columns, 'sqlite', $t['members'] ?? null);
        $order = $f->orderBy($q['sort'], 'id');
        $withMembers = !$q['withoutMembers'] && $q['resourceType'] === 'Group';
        if ($f->exact) {
            $stmt = $this->db->prepare("SELECT * FROM {$t['table']} WHERE {$f->sql} $order LIMIT ? OFFSET ?");
            $stmt->execute([...$f->params, $q['count'], $q['startIndex'] - 1]);
        } else {
            $stmt = $this->db->prepare("SELECT * FROM {$t['table']} WHERE {$f->sql}");
            $stmt->execute($f->params);
        }
        $items = [];
        foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $row) {
            $items[] = $this->resource($t, $row, $withMembers ? $this->groupMembers((string) $row['id']) : null);
        }
        if (!$f->exact) {
            return ['items' => $items, 'total' => null, 'applied' => 'nothing'];
        }
        return ['items' => $items, 'total' => $this->total($t, $f, $q, count($items)), 'applied' => 'everything'];
    }

    /** The number of matches: known without counting when the page is not full. */
    private function total(array $t, SqlFilter $f, array $q, int $got): int
    {
        if ($got < $q['count'] && ($got > 0 || $q['startIndex'] === 1)) {
            return $q['startIndex'] - 1 + $got;
        }
        $count = $this->db->prepare("SELECT COUNT(*) FROM {$t['table']} WHERE {$f->sql}");
        $count->execute($f->params);
        return (int) $count->fetchColumn();
    }

    public function members(string $type, string $id, int $startIndex, int $count): array
    {
        $t = self::type($type);
        if ($this->row($t['table'], $id) === null) {
            throw StorageError::notFound();
        }
        return $type === 'Group' ? $this->groupMembers($id, $startIndex, $count) : [];
    }

    private function row(string $table, string $id): ?array
    {
        $stmt = $this->db->prepare("SELECT * FROM $table WHERE id = ?");
        $stmt->execute([$id]);
        return $stmt->fetch(PDO::FETCH_ASSOC) ?: null;
    }

    private function resource(array $t, array $row, ?array $members): array
    {
        $data = array_intersect_key($row, array_flip($t['columns']));
        return ['id' => (string) $row['id'], 'version' => (string) $row['revision'], 'data' => $data, 'members' => $members];
    }

    /** The row's known columns, and each unique column's canonical copy. */
    private function values(array $t, array $row, array $unique): array
    {
        $values = array_intersect_key($row, array_flip($t['columns']));
        foreach ($unique as $key) {
            if (isset($t['unique'][$key['attribute']])) {
                $values[$t['unique'][$key['attribute']]] = $key['value'];
            }
        }
        return $values;
    }

    private function groupMembers(string $groupId, int $startIndex = 1, int $count = -1): array
    {
        // The display the client sent, else the user's name.
        $stmt = $this->db->prepare('SELECT u.id, COALESCE(r.display, u.username) AS display
            FROM usergroup_rel_user r JOIN user u ON u.id = r.user_id
            WHERE r.usergroup_id = ? ORDER BY r.id LIMIT ? OFFSET ?');
        $stmt->execute([$groupId, $count, $startIndex - 1]);
        return array_map(
            fn ($r) => ['value' => (string) $r['id'], 'type' => 'User', 'display' => $r['display']],
            $stmt->fetchAll(PDO::FETCH_ASSOC),
        );
    }

    /** Only users can be members here; other ids are ignored. Adding a member again updates its display. */
    private function addMembers(string $groupId, array $members): void
    {
        $add = $this->db->prepare('INSERT INTO usergroup_rel_user (usergroup_id, user_id, display)
            SELECT ?, id, ? FROM user WHERE id = ?
            ON CONFLICT (usergroup_id, user_id) DO UPDATE SET display = excluded.display');
        foreach ($members as $m) {
            if (($m['type'] ?? 'User') === 'User') {
                $add->execute([$groupId, $m['display'] ?? null, $m['value']]);
            }
        }
    }

    /** Runs $f in a transaction; a taken unique value becomes a conflict on the mapped column. */
    private function write(callable $f, array $t): mixed
    {
        $this->db->beginTransaction();
        try {
            $result = $f();
            $this->db->commit();
            return $result;
        } catch (\Throwable $e) {
            $this->db->rollBack();
            if ($e instanceof PDOException && str_contains($e->getMessage(), 'UNIQUE constraint failed')) {
                throw StorageError::conflict((string) array_key_first($t['unique']));
            }
            throw $e;
        }
    }
}

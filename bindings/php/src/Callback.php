<?php

declare(strict_types=1);

namespace Scimkit;

use FFI;

/**
 * The storage callback the engine calls: decodes the operation, calls the Storage, replies in JSON.
 *
 * FFI keeps every PHP closure it turns into a C function until the PHP request ends, so one C function
 * per FFI instance serves every Provider: it answers for the Callback of the running handle() call.
 * A closure per Provider would pile up in a process that creates many (a worker, a queue consumer).
 */
final class Callback
{
    private static ?self $current = null;
    /** @var \WeakMap<FFI, FFI\CData>|null the C function of each FFI instance */
    private static ?\WeakMap $functions = null;

    public function __construct(private readonly FFI $ffi, private readonly Storage $storage, private readonly Hooks $hooks)
    {
    }

    /** The C storage callback for engines created through $ffi. */
    public static function function(FFI $ffi): FFI\CData
    {
        self::$functions ??= new \WeakMap();
        if (!isset(self::$functions[$ffi])) {
            // Assigned to a struct field, the closure becomes a C function once; reading the field back
            // gives that function's pointer, which FFI then passes as it is.
            $holder = $ffi->new('struct { scimkit_storage_cb f; }');
            $holder->f = static function ($user, $op, $args, $reply): int {
                // Nothing may leave a callback: PHP turns what does into a fatal error, whose bailout jumps
                // over the native frames. 1 is a storage failure, which the engine answers as a SCIM 500.
                try {
                    return self::$current?->answer($op, $args, $reply) ?? 1;
                } catch (\Throwable) {
                    return 1;
                }
            };
            self::$functions[$ffi] = $holder->f;
        }
        return self::$functions[$ffi];
    }

    /** Runs $call (a scimkit_handle) with this Callback answering the storage calls it makes. */
    public function during(callable $call): mixed
    {
        $previous = self::$current;
        self::$current = $this;
        try {
            return $call();
        } finally {
            self::$current = $previous;
        }
    }

    /**
     * One storage call. Whatever the Storage throws (a StorageError, any other Exception, an Error such as a
     * TypeError) becomes a storage error the engine answers as a SCIM error.
     */
    private function answer(mixed $op, mixed $args, mixed $reply): int
    {
        try {
            $op = is_string($op) ? $op : FFI::string($op);
            $a = json_decode(is_string($args) ? $args : FFI::string($args), true, 512, JSON_THROW_ON_ERROR);
            $result = $this->dispatch($op, $a);
        } catch (StorageError $e) {
            $result = $e->toReply();
        } catch (\Throwable $e) {
            self::log('scimkit storage: ' . $e::class . ': ' . $e->getMessage());
            $result = ['error' => 'other', 'detail' => $e::class . ': ' . $e->getMessage()];
        }
        try {
            $json = json_encode($result, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);
            $this->ffi->scimkit_reply($reply, $json);
            return 0;
        } catch (\Throwable $e) {
            self::log('scimkit storage reply: ' . $e::class . ': ' . $e->getMessage());
            return 1;
        }
    }

    /** error_log, which an application's error handler may turn into an exception: not from here. */
    private static function log(string $message): void
    {
        try {
            error_log($message);
        } catch (\Throwable) {
        }
    }

    private function dispatch(string $op, array $a): mixed
    {
        $s = $this->storage;
        return match ($op) {
            'get' => self::resource($s->get($a['resourceType'], $a['id'], $a['withMembers'])),
            'create' => self::resource($s->create($a['resourceType'], $a['data'], $a['unique'], $a['members'])),
            'update' => self::resource($s->update($a)),
            'delete' => $s->delete($a['resourceType'], $a['id'], $a['ifVersion']),
            'search' => self::page($s->search($a)),
            'members' => $s->members($a['resourceType'], $a['id'], $a['startIndex'], $a['count']),
            'event-check' => self::verdict($this->hooks->check($a)),
            'event-changed' => $this->hooks->changed($a, (string) $a['version']),
            default => throw StorageError::unsupported(),
        };
    }

    /** A row must reach the engine as a JSON object, even when PHP would encode it as a list. */
    private static function resource(?array $r): ?array
    {
        if ($r !== null && is_array($r['data'] ?? null)) {
            $r['data'] = (object) $r['data'];
        }
        return $r;
    }

    /** An adjusted resource must reach the engine as a JSON object. */
    private static function verdict(?array $v): ?array
    {
        if (isset($v['adjust'])) {
            $v['adjust'] = (object) $v['adjust'];
        }
        return $v;
    }

    private static function page(array $p): array
    {
        $p['items'] = array_map(self::resource(...), $p['items']);
        return $p;
    }
}

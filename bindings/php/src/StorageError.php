<?php

declare(strict_types=1);

namespace Scimkit;

/** An expected storage failure, which the engine turns into the matching SCIM error response. */
final class StorageError extends \RuntimeException
{
    private function __construct(public readonly string $kind, string $detail = '')
    {
        parent::__construct($detail === '' ? $kind : "$kind: $detail");
        $this->detail = $detail;
    }

    public readonly string $detail;

    public static function notFound(): self
    {
        return new self('not-found');
    }

    /** @param string $column the unique column whose value is taken */
    public static function conflict(string $column): self
    {
        return new self('conflict', $column);
    }

    public static function preconditionFailed(): self
    {
        return new self('precondition-failed');
    }

    public static function unsupported(): self
    {
        return new self('unsupported');
    }

    /** A temporary failure (503); the detail is logged, not shown to clients. */
    public static function unavailable(string $detail): self
    {
        return new self('unavailable', $detail);
    }

    /** @return array the reply the engine expects */
    public function toReply(): array
    {
        return ['error' => $this->kind, 'detail' => $this->detail];
    }
}

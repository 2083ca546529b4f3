<?php

declare(strict_types=1);

namespace Scimkit;

/** One SCIM response. */
final class Response
{
    /** @param list<array{0: string, 1: string}> $headers in order; a name may repeat */
    public function __construct(
        public readonly int $status,
        public readonly array $headers,
        public readonly string $body,
    ) {
    }

    public function header(string $name): ?string
    {
        foreach ($this->headers as [$k, $v]) {
            if (strcasecmp($k, $name) === 0) {
                return $v;
            }
        }
        return null;
    }
}

<?php

declare(strict_types=1);

namespace Scimkit\Tests;

/** Assertions for the plain runner. */
final class Check
{
    public static function same(mixed $expected, mixed $actual, string $what = ''): void
    {
        if ($expected !== $actual) {
            throw new \RuntimeException(trim("$what: expected " . var_export($expected, true) . ', got ' . var_export($actual, true), ': '));
        }
    }

    public static function true(bool $condition, string $what): void
    {
        if (!$condition) {
            throw new \RuntimeException($what);
        }
    }
}

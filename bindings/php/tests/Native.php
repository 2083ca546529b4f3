<?php

declare(strict_types=1);

namespace Scimkit\Tests;

/** Where the tests find the built library and component (the README's release build, or the env). */
final class Native
{
    public static function library(): string
    {
        return getenv('SCIMKIT_LIBRARY') ?: dirname(__DIR__, 3) . '/target/release/libscimkit_native.so';
    }

    public static function component(): string
    {
        return getenv('SCIMKIT_COMPONENT') ?: dirname(__DIR__, 3) . '/target/scimkit.wasm';
    }
}

<?php

declare(strict_types=1);

namespace Scimkit\Tests;

/** Where the tests find the built library and component (the release build, or the environment's). */
final class Native
{
    public static function library(): string
    {
        return getenv('SCIMKIT_LIBRARY') ?: \Scimkit\Native::defaultLibrary();
    }

    public static function component(): string
    {
        return getenv('SCIMKIT_COMPONENT') ?: dirname(__DIR__, 3) . '/target/scimkit.wasm';
    }
}

<?php

declare(strict_types=1);

namespace Scimkit;

use FFI;

/**
 * A SCIM service provider over an application's Storage. Create one per request (the native library keeps
 * the compiled engine and its instances for the life of the process), then call serve() or handle().
 */
final class Provider
{
    private FFI $ffi;
    private FFI\CData $engine;
    private Callback $callback;

    /**
     * @param string|null $library the native library; null: the one this package holds (Native::defaultLibrary)
     * @param string|null $component the component file; null: the one built into the library
     * @param array $config the engine configuration (baseUrl, mapping, …), as in wit/scim.wit
     * @param Hooks|null $hooks what the application hears of every change and its say before it; null: none
     */
    public function __construct(
        ?string $library,
        ?string $component,
        array $config,
        Storage $storage,
        ?string $cacheDir = null,
        ?string $header = null,
        ?Hooks $hooks = null,
    ) {
        $this->ffi = Native::load($library ?? Native::defaultLibrary(), $header);
        $this->callback = new Callback($this->ffi, $storage, $hooks ?? new Hooks());
        $json = json_encode($config, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
        $error = $this->ffi->new('char*');
        $engine = $this->ffi->scimkit_engine_new($component, $cacheDir, $json, Callback::function($this->ffi), null, FFI::addr($error));
        if ($engine === null) {
            $message = $error === null || FFI::isNull($error) ? 'unknown error' : FFI::string($error);
            if ($error !== null && !FFI::isNull($error)) {
                $this->ffi->scimkit_free($error);
            }
            throw new \RuntimeException("scimkit: $message");
        }
        $this->engine = $engine;
    }

    public function __destruct()
    {
        if (isset($this->engine)) {
            $this->ffi->scimkit_engine_free($this->engine);
        }
    }

    /**
     * Answers one request below the SCIM base.
     *
     * @param array $headers name => value (or list of values), or a list of [name, value]
     */
    public function handle(string $method, string $path, string $query = '', array $headers = [], ?string $body = null, ?string $principal = null): Response
    {
        $buffer = null;
        $length = $body === null ? 0 : strlen($body);
        if ($length > 0) {
            $buffer = $this->ffi->new("uint8_t[$length]");
            FFI::memcpy($buffer, $body, $length);
        }
        $headersJson = json_encode(array_is_list($headers) ? $headers : (object) $headers, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
        $out = $this->callback->during(fn () => $this->ffi->scimkit_handle($this->engine, $method, $path, $query, $headersJson, $buffer, $length, $principal));
        if ($out === null) {
            return new Response(500, [], '');
        }
        try {
            $r = json_decode(FFI::string($out), true, 512, JSON_THROW_ON_ERROR);
        } finally {
            $this->ffi->scimkit_free($out);
        }
        return new Response((int) $r['status'], $r['headers'], $r['body']);
    }

    /**
     * Serves the current PHP request: the part of the path after $basePath is the SCIM path.
     * Authentication is the caller's: check credentials before calling this.
     */
    public function serve(string $basePath = '/scim/v2', ?string $principal = null): void
    {
        $uri = $_SERVER['REQUEST_URI'] ?? '/';
        [$path, $query] = array_pad(explode('?', $uri, 2), 2, '');
        $path = rawurldecode($path);
        if (str_starts_with($path, $basePath)) {
            $path = substr($path, strlen($basePath));
        }
        $headers = [];
        foreach ($_SERVER as $key => $value) {
            if (str_starts_with($key, 'HTTP_')) {
                $headers[] = [str_replace('_', '-', substr($key, 5)), (string) $value];
            } elseif ($key === 'CONTENT_TYPE' && $value !== '') {
                $headers[] = ['Content-Type', (string) $value];
            }
        }
        $body = file_get_contents('php://input');
        $resp = $this->handle($_SERVER['REQUEST_METHOD'] ?? 'GET', $path === '' ? '/' : $path, $query, $headers, $body === false ? null : $body, $principal);
        http_response_code($resp->status);
        foreach ($resp->headers as [$name, $value]) {
            header("$name: $value", false);
        }
        echo $resp->body;
    }
}

<?php

// GET /Users/<id> through Scimkit\Provider in process, over the example's storage (its tables in an in-memory
// SQLite database): the PHP row of the per-host comparison (bench/hosts.sh). Bounded in count and time.
// Usage: php -d ffi.enable=1 bindings/php/bench.php [REQUESTS] [USERS]

declare(strict_types=1);

require __DIR__ . '/autoload.php';

use Scimkit\Example\AppStorage;
use Scimkit\Provider;

$requests = (int) ($argv[1] ?? 20000);
$users = max(1, (int) ($argv[2] ?? 1000));
$json = ['Content-Type' => 'application/scim+json'];
$storage = new AppStorage(new PDO('sqlite::memory:'));
$storage->install();
$p = new Provider(null, null, (require __DIR__ . '/example/config.php')('https://app.example/scim/v2'), $storage);
$ids = [];
for ($i = 0; $i < $users; $i++) {
    $body = ['userName' => "user$i", 'name' => ['givenName' => 'Barbara', 'familyName' => "Jensen$i"],
        'emails' => [['type' => 'work', 'value' => "user$i@example.com"]], 'title' => 'Tour guide'];
    $r = $p->handle('POST', '/Users', '', $json, json_encode($body));
    if ($r->status !== 201) {
        fwrite(STDERR, "create answered $r->status: $r->body\n");
        exit(1);
    }
    $ids[] = json_decode($r->body, true)['id'];
}
$get = static fn (int $n) => $p->handle('GET', '/Users/' . $ids[($n * 7919) % count($ids)], '', [], null);
for ($n = 0; $n < min($requests, 500); $n++) {
    $get($n);
}
$cpu = static function (): float {
    $u = getrusage();
    return $u['ru_utime.tv_sec'] + $u['ru_utime.tv_usec'] / 1e6 + $u['ru_stime.tv_sec'] + $u['ru_stime.tv_usec'] / 1e6;
};
[$t0, $c0] = [hrtime(true), $cpu()];
$done = 0;
while ($done < $requests && hrtime(true) - $t0 < 120e9) {
    if ($get($done)->status !== 200) {
        fwrite(STDERR, "GET failed\n");
        exit(1);
    }
    $done++;
}
[$s, $used] = [(hrtime(true) - $t0) / 1e9, $cpu() - $c0];
printf("php %s GET by id, %d users: %d requests in %.2f s, %.0f requests/s, %.0f us each (%.0f us of CPU each)\n",
    PHP_VERSION, $users, $done, $s, $done / $s, $s * 1e6 / $done, $used * 1e6 / $done);

<?php
// A publish ping from Debian's php-pubsubhubbub-publisher (the PuSH 0.3
// publisher library of the OStatus era, unchanged): publish.php HUB TOPIC.
// Prints one JSON line: whether the library counted the ping as accepted
// (it wants exactly 204) and the hub's answer.
require_once '/usr/share/php/Pubsubhubbub/Publisher/autoload.php';

use pubsubhubbub\publisher\Publisher;

$publisher = new Publisher($argv[1]);
$accepted = $publisher->publish_update($argv[2]);
echo json_encode(['accepted' => $accepted, 'response' => $publisher->last_response()]), "\n";
